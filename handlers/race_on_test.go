//go:build race

package handlers

// raceEnabled: the race detector's shadow memory and per-goroutine state
// multiply what a test measures as RSS.
const raceEnabled = true
