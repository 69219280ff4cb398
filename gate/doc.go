// Package gate holds qemgate's pure decisions: the test plan for a PR (which openQA
// products to post, with which settings, or why not) and the helpers feeding it. No I/O, no clock.
package gate
