// Package giteafake is a stateful, in-process fake Gitea (1.26 wire format) for tests:
// it serves the REST endpoints the SDK uses and sends signed webhook deliveries.
//
// Only tests and sandbox commands import it; the production binary never does.
// Tests drive it through the Go control API (OpenPull, Push, SubmitReview, ...)
// or, from outside the process, through JSON endpoints under /_fake/.
package giteafake
