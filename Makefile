# qemgate — the two commands that matter are `make run` and `make test`.
# Both start a throwaway PostgreSQL (scripts/pg.sh) unless a URL is given.

GO        ?= go
CONFIG    ?= deploy/qemgate.example.yaml
PKGS      ?= ./...
TESTFLAGS ?= -race -timeout 8m
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)

.PHONY: run test fuzz build lint bench bench-ingest sandbox fmt clean

# The example configuration holds no secrets: `make run` generates throwaway
# ones and prints them (scripts/dev-secrets.sh). Your own CONFIG gets none.
ifeq ($(CONFIG),deploy/qemgate.example.yaml)
DEV_SECRETS := scripts/dev-secrets.sh
endif

## run: start qemgate with the example config (and a throwaway PostgreSQL when QEMGATE_DATABASE_URL is unset)
run: build
	$(DEV_SECRETS) scripts/pg.sh QEMGATE_DATABASE_URL bin/qemgate serve --config $(CONFIG)

## test: run every test against a real PostgreSQL (QEMGATE_TEST_DATABASE_URL, or a throwaway one)
test:
	scripts/pg.sh QEMGATE_TEST_DATABASE_URL $(GO) test $(TESTFLAGS) $(PKGS)

FUZZTIME     ?= 30s
FUZZ_TARGETS ?= FuzzGiteaWebhook FuzzOpenQAWebhook FuzzQueryParameters ./intake:FuzzGiteaPayload

## fuzz: each fuzz target for FUZZTIME against a real PostgreSQL (CI runs 30s each; docs/security.md)
fuzz:
	GO=$(GO) scripts/pg.sh QEMGATE_TEST_DATABASE_URL scripts/fuzz.sh $(FUZZTIME) $(FUZZ_TARGETS)

## build: build bin/qemgate
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/qemgate ./cmd/qemgate

## lint: gofmt, go vet and staticcheck, as CI runs them
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## bench: the benchmarks whose numbers are in docs/benchmarks.md
bench:
	scripts/pg.sh QEMGATE_TEST_DATABASE_URL $(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin .pg

## sandbox: qemgate with a fake Gitea and a fake openQA on loopback, a demo PR, and curl lines to drive it
## (flags through ARGS: make sandbox ARGS="-listen 127.0.0.1:8081 -gitea 127.0.0.1:3001 -openqa 127.0.0.1:9527")
ARGS ?=
sandbox:
	$(GO) build -o bin/qemgate-sandbox ./cmd/qemgate-sandbox
	scripts/pg.sh QEMGATE_DATABASE_URL bin/qemgate-sandbox $(ARGS)

BENCH_INGEST_FLAGS ?=

## bench-ingest: webhook ingest against one delivery body per transaction, interleaved, on a throwaway cluster with fsync on (docs/benchmarks.md)
bench-ingest:
	QEMGATE_PG_DURABLE=1 scripts/pg.sh QEMGATE_BENCH_DATABASE_URL $(GO) run ./bench/ingest $(BENCH_INGEST_FLAGS)
