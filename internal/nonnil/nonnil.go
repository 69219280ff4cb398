// Package nonnil turns a nil slice into an empty one, for the places where
// the difference shows: JSON answers ([] rather than null) and PostgreSQL
// array columns ('{}' rather than NULL).
package nonnil

// Slice is s, or an empty slice when s is nil.
func Slice[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
