// Package openqa owns every HTTP conversation with openQA: HMAC-SHA1 request
// signing, scheduling (POST /api/v1/isos), reading jobs, comments and job
// groups, typed errors with a retry policy, and the openQA vocabulary that
// decisions need (job states and results, @review:acceptable_for markers).
//
// The client never retries a POST: scheduling is not idempotent in openQA, so
// a retry belongs to the caller, which knows whether the jobs already exist.
package openqa
