// Package openqafake is a stateful, in-process fake of the openQA web API for
// tests: HMAC auth, isos scheduling from templates, jobs, comments, groups,
// controls to finish/restart jobs, a job-done hook and fault injection.
//
// It reproduces openQA's wire quirks (errors inside HTTP 200, text/plain 400s,
// "failed" as {} or [], Link paging) so the client is tested against them.
// Production code never imports it.
package openqafake
