// Package intake decides what one delivery means. It reads a body from
// Gitea or openQA, however it arrived (a webhook, a broker message, a replay
// of a stored row), and says what to store and which work it implies. It is
// pure: the same body and configuration always give the same answer.
package intake
