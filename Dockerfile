# syntax=docker/dockerfile:1
#
# qemgate container image: a static binary on distroless, running as an
# unprivileged user. Build with BuildKit (the default of current Docker and
# Podman/Buildah):
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t qemgate .
#
# The image expects its configuration at /etc/qemgate/qemgate.yaml (mount it)
# and secrets as QEMGATE_*_FILE pointing at mounted files; see docs/deploy.md.

ARG GO_VERSION=1.26

# The build runs on the builder's own platform and cross-compiles, which is
# fast and needs no emulation because the binary is pure Go.
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/qemgate ./cmd/qemgate

# static-debian12 carries CA certificates, tzdata and /etc/passwd, nothing else:
# no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/qemgate /qemgate
# Numeric, so that Kubernetes' runAsNonRoot can verify it (65532 is distroless' nonroot).
USER 65532:65532
# In a container the service must listen on every interface; the file's
# 127.0.0.1 default would be unreachable. The environment wins over the file.
ENV QEMGATE_LISTEN=:8080
EXPOSE 8080
ENTRYPOINT ["/qemgate"]
CMD ["serve", "--config", "/etc/qemgate/qemgate.yaml"]
