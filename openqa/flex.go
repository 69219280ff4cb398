package openqa

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FlexInt decodes an integer that Perl may serialise as a number, a string
// ("42"), a float (42.0), a boolean, null or "" (both zero). openQA ids
// start at 1, so zero doubles as "none".
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	s := string(b)
	switch s {
	case "null", `""`, "false":
		*f = 0
		return nil
	case "true":
		*f = 1
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("flexible int %s: %w", b, err)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*f = 0
			return nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = FlexInt(n)
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || x != float64(int64(x)) {
		return fmt.Errorf("flexible int: cannot use %s", b)
	}
	*f = FlexInt(int64(x))
	return nil
}

// flexString decodes a string that may arrive as a number or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		*f = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
	default:
		*f = flexString(b)
	}
	return nil
}

// Timestamp is one of openQA's time formats: jobs use "2006-01-02T15:04:05"
// (UTC, no zone), comments "2006-01-02 15:04:05 +0000", AMQP RFC 3339. null
// and "" decode to the zero time.
type Timestamp struct{ time.Time }

var timestampLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	time.RFC3339Nano,
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("timestamp %s: %w", b, err)
	}
	if s == nil || *s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range timestampLayouts {
		if v, err := time.Parse(layout, *s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("timestamp %q: unknown format", *s)
}

// MarshalJSON writes openQA's job format, or null for the zero time.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format("2006-01-02T15:04:05"))
}
