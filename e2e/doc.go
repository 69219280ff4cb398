// Package e2e holds whole-system tests: qemgate's real HTTP handler and
// workers on a real PostgreSQL, wired to the fake Gitea and fake openQA.
package e2e
