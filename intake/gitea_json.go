package intake

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// decodeGiteaPayload reads the routing fields of a Gitea delivery in one
// pass over the body. It decodes exactly as json.Unmarshal(body, &p) does
// (FuzzGiteaPayload checks that against encoding/json): the same error or
// none, and the same values. encoding/json scans a body twice, to validate
// it and then to decode it, skipping the unknown fields with a
// state-machine call per byte; for a 17.7 kB pull_request delivery that was
// the largest single cost of a webhook in Go (issue 14). Here unknown
// fields are validated by a plain loop, and only the fields of
// giteaPayload are looked at.
func decodeGiteaPayload(body []byte) (giteaPayload, error) {
	var p giteaPayload
	r := jsonReader{data: body}
	r.space()
	if err := r.value(&giteaSchema, &p, 0); err != nil {
		return giteaPayload{}, err
	}
	r.space()
	if r.i < len(r.data) {
		return giteaPayload{}, r.syntax("after top-level value")
	}
	if r.typeErr != nil {
		return giteaPayload{}, r.typeErr
	}
	return p, nil
}

// fieldKind is how a field of giteaPayload takes a JSON value, as
// encoding/json decodes into its Go type.
type fieldKind uint8

const (
	kindString    fieldKind = iota + 1 // string: a string sets it, null leaves it
	kindInt                            // int64: an integer in range sets it, null leaves it
	kindBoolPtr                        // *bool: true or false sets it, null sets nil
	kindStructPtr                      // *struct: an object fills it (new if nil), null sets nil
	kindStruct                         // struct: an object fills it, null leaves it
)

// jsonField is a field of giteaPayload: its JSON name, how it takes a value
// and where the value goes. p's pointers on the way are not nil when a
// setter runs: a field inside a *struct is only reached through its object.
type jsonField struct {
	name   string
	kind   fieldKind
	fields []jsonField // of a struct

	setString func(p *giteaPayload, s string)
	setInt    func(p *giteaPayload, n int64)
	setBool   func(p *giteaPayload, b *bool)
	// setPresent makes a *struct non-nil (keeping what it holds), or nil.
	setPresent func(p *giteaPayload, present bool)
}

// giteaSchema is giteaPayload as a tree of fields.
var giteaSchema = jsonField{kind: kindStruct, fields: []jsonField{
	{name: "action", kind: kindString, setString: func(p *giteaPayload, s string) { p.Action = s }},
	{name: "number", kind: kindInt, setInt: func(p *giteaPayload, n int64) { p.Number = n }},
	{name: "pull_request", kind: kindStructPtr,
		setPresent: func(p *giteaPayload, present bool) { p.PullRequest = keep(p.PullRequest, present) },
		fields: []jsonField{
			{name: "number", kind: kindInt, setInt: func(p *giteaPayload, n int64) { p.PullRequest.Number = n }},
			{name: "head", kind: kindStruct, fields: []jsonField{
				{name: "sha", kind: kindString, setString: func(p *giteaPayload, s string) { p.PullRequest.Head.SHA = s }},
			}},
		}},
	{name: "issue", kind: kindStructPtr,
		setPresent: func(p *giteaPayload, present bool) { p.Issue = keep(p.Issue, present) },
		fields: []jsonField{
			{name: "number", kind: kindInt, setInt: func(p *giteaPayload, n int64) { p.Issue.Number = n }},
		}},
	{name: "is_pull", kind: kindBoolPtr, setBool: func(p *giteaPayload, b *bool) { p.IsPull = b }},
	{name: "repository", kind: kindStructPtr,
		setPresent: func(p *giteaPayload, present bool) { p.Repository = keep(p.Repository, present) },
		fields: []jsonField{
			{name: "full_name", kind: kindString, setString: func(p *giteaPayload, s string) { p.Repository.FullName = s }},
		}},
	{name: "sender", kind: kindStructPtr,
		setPresent: func(p *giteaPayload, present bool) { p.Sender = keep(p.Sender, present) },
		fields: []jsonField{
			{name: "login", kind: kindString, setString: func(p *giteaPayload, s string) { p.Sender.Login = s }},
		}},
	{name: "comment", kind: kindStructPtr,
		setPresent: func(p *giteaPayload, present bool) { p.Comment = keep(p.Comment, present) },
		fields: []jsonField{
			{name: "user", kind: kindStructPtr,
				setPresent: func(p *giteaPayload, present bool) { p.Comment.User = keep(p.Comment.User, present) },
				fields: []jsonField{
					{name: "login", kind: kindString, setString: func(p *giteaPayload, s string) { p.Comment.User.Login = s }},
				}},
		}},
	{name: "sha", kind: kindString, setString: func(p *giteaPayload, s string) { p.SHA = s }},
	{name: "context", kind: kindString, setString: func(p *giteaPayload, s string) { p.Context = s }},
	{name: "state", kind: kindString, setString: func(p *giteaPayload, s string) { p.State = s }},
}}

// keep is what encoding/json does to a *struct field: an object fills the
// struct it points to, allocated when nil; null sets it to nil.
func keep[T any](v *T, present bool) *T {
	switch {
	case !present:
		return nil
	case v == nil:
		return new(T)
	}
	return v
}

// field finds the field a key names, as encoding/json does: an exact name
// or, failing that, one equal under Unicode case folding. key is unescaped.
func (f *jsonField) field(key []byte) *jsonField {
	for i := range f.fields {
		if string(key) == f.fields[i].name {
			return &f.fields[i]
		}
	}
	for i := range f.fields {
		if bytes.EqualFold(key, []byte(f.fields[i].name)) {
			return &f.fields[i]
		}
	}
	return nil
}

// maxDepth is encoding/json's limit on nested arrays and objects.
const maxDepth = 10000

// errJSONType is a value of the wrong type for its field, which
// encoding/json reports after decoding the rest.
var errJSONType = errors.New("a value of the wrong type")

// jsonReader reads one JSON document from data, validating all of it as
// encoding/json does (RFC 8259, at most maxDepth levels).
type jsonReader struct {
	data    []byte
	i       int
	typeErr error // the first value of the wrong type for its field
}

func (r *jsonReader) syntax(what string) error {
	if r.i >= len(r.data) {
		return fmt.Errorf("unexpected end of JSON input %s", what)
	}
	return fmt.Errorf("invalid character %q %s at offset %d", r.data[r.i], what, r.i)
}

func (r *jsonReader) wrongType(f *jsonField, got string) {
	if r.typeErr != nil {
		return
	}
	name := f.name
	if name == "" {
		name = "the body"
	}
	r.typeErr = fmt.Errorf("%w: %s cannot be %s", errJSONType, name, got)
}

// byteClass sorts the bytes the reader loops over: white space between
// tokens, and the bytes that end a plain run of a string.
var byteClass = func() (c [256]uint8) {
	for _, b := range []byte(" \t\n\r") {
		c[b] |= classSpace
	}
	for b := range 0x20 {
		c[b] |= classStringStop
	}
	c['"'] |= classStringStop
	c['\\'] |= classStringStop
	return c
}()

const (
	classSpace uint8 = 1 << iota
	classStringStop
)

func (r *jsonReader) space() {
	for r.i < len(r.data) && byteClass[r.data[r.i]]&classSpace != 0 {
		r.i++
	}
}

// value reads one value at r.i into field f of p; f nil only validates it.
func (r *jsonReader) value(f *jsonField, p *giteaPayload, depth int) error {
	if r.i >= len(r.data) {
		return r.syntax("looking for beginning of value")
	}
	switch c := r.data[r.i]; {
	case c == '{':
		if f != nil {
			switch f.kind {
			case kindStructPtr:
				f.setPresent(p, true)
			case kindStruct:
			default:
				r.wrongType(f, "an object")
				f = nil
			}
		}
		return r.object(f, p, depth+1)
	case c == '[':
		if f != nil {
			r.wrongType(f, "an array")
		}
		return r.array(depth + 1)
	case c == '"':
		start := r.i
		escaped, err := r.str()
		if err != nil || f == nil {
			return err
		}
		if f.kind != kindString {
			r.wrongType(f, "a string")
			return nil
		}
		f.setString(p, unquote(r.data[start+1:r.i-1], escaped))
		return nil
	case c == '-' || '0' <= c && c <= '9':
		start := r.i
		integer, err := r.number()
		if err != nil || f == nil {
			return err
		}
		if f.kind != kindInt || !integer {
			r.wrongType(f, "the number "+string(r.data[start:r.i]))
			return nil
		}
		n, err := strconv.ParseInt(string(r.data[start:r.i]), 10, 64)
		if err != nil {
			r.wrongType(f, "the number "+string(r.data[start:r.i]))
			return nil
		}
		f.setInt(p, n)
		return nil
	case c == 't' || c == 'f':
		lit := "true"
		if c == 'f' {
			lit = "false"
		}
		if err := r.literal(lit); err != nil || f == nil {
			return err
		}
		if f.kind != kindBoolPtr {
			r.wrongType(f, "a boolean")
			return nil
		}
		b := c == 't'
		f.setBool(p, &b)
		return nil
	case c == 'n':
		if err := r.literal("null"); err != nil || f == nil {
			return err
		}
		switch f.kind {
		case kindStructPtr:
			f.setPresent(p, false)
		case kindBoolPtr:
			f.setBool(p, nil)
		}
		return nil
	}
	return r.syntax("looking for beginning of value")
}

func (r *jsonReader) object(f *jsonField, p *giteaPayload, depth int) error {
	if depth > maxDepth {
		return r.syntax("exceeding the maximum depth")
	}
	r.i++ // {
	r.space()
	if r.i < len(r.data) && r.data[r.i] == '}' {
		r.i++
		return nil
	}
	for {
		if r.i >= len(r.data) || r.data[r.i] != '"' {
			return r.syntax("looking for beginning of object key string")
		}
		start := r.i
		escaped, err := r.str()
		if err != nil {
			return err
		}
		var member *jsonField
		if f != nil {
			key := r.data[start+1 : r.i-1]
			if escaped {
				key = []byte(unquote(key, true))
			}
			member = f.field(key)
		}
		r.space()
		if r.i >= len(r.data) || r.data[r.i] != ':' {
			return r.syntax("after object key")
		}
		r.i++
		r.space()
		if err := r.value(member, p, depth); err != nil {
			return err
		}
		if more, err := r.more('}', "after object key:value pair"); !more {
			return err
		}
	}
}

func (r *jsonReader) array(depth int) error {
	if depth > maxDepth {
		return r.syntax("exceeding the maximum depth")
	}
	r.i++ // [
	r.space()
	if r.i < len(r.data) && r.data[r.i] == ']' {
		r.i++
		return nil
	}
	for {
		if err := r.value(nil, nil, depth); err != nil {
			return err
		}
		if more, err := r.more(']', "after array element"); !more {
			return err
		}
	}
}

// more reads what follows a member or an element: a comma, and more
// follow, or the closing bracket.
func (r *jsonReader) more(closing byte, after string) (bool, error) {
	r.space()
	if r.i < len(r.data) {
		switch r.data[r.i] {
		case ',':
			r.i++
			r.space()
			return true, nil
		case closing:
			r.i++
			return false, nil
		}
	}
	return false, r.syntax(after)
}

// str reads a string at r.i, which is a quote, and says whether it holds an
// escape.
func (r *jsonReader) str() (escaped bool, err error) {
	r.i++
	for r.i < len(r.data) {
		for r.i < len(r.data) && byteClass[r.data[r.i]]&classStringStop == 0 {
			r.i++
		}
		if r.i >= len(r.data) {
			break
		}
		c := r.data[r.i]
		switch {
		case c == '"':
			r.i++
			return escaped, nil
		case c == '\\':
			escaped = true
			r.i++
			if r.i >= len(r.data) {
				return escaped, r.syntax("in string escape code")
			}
			switch r.data[r.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				r.i++
			case 'u':
				r.i++
				for range 4 {
					if r.i >= len(r.data) || !isHex(r.data[r.i]) {
						return escaped, r.syntax(`in \u hexadecimal character escape`)
					}
					r.i++
				}
			default:
				return escaped, r.syntax("in string escape code")
			}
		case c < 0x20:
			return escaped, r.syntax("in string literal")
		default:
			r.i++
		}
	}
	return escaped, r.syntax("in string literal")
}

// number reads a number at r.i and says whether it is an integer (no
// fraction, no exponent).
func (r *jsonReader) number() (integer bool, err error) {
	digits := func() int {
		n := 0
		for r.i < len(r.data) && '0' <= r.data[r.i] && r.data[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	if r.data[r.i] == '-' {
		r.i++
	}
	switch {
	case r.i < len(r.data) && r.data[r.i] == '0':
		r.i++
	case digits() == 0:
		return false, r.syntax("in numeric literal")
	}
	integer = true
	if r.i < len(r.data) && r.data[r.i] == '.' {
		integer = false
		r.i++
		if digits() == 0 {
			return false, r.syntax("after decimal point in numeric literal")
		}
	}
	if r.i < len(r.data) && (r.data[r.i] == 'e' || r.data[r.i] == 'E') {
		integer = false
		r.i++
		if r.i < len(r.data) && (r.data[r.i] == '+' || r.data[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return false, r.syntax("in exponent of numeric literal")
		}
	}
	return integer, nil
}

func (r *jsonReader) literal(lit string) error {
	for k := range len(lit) {
		if r.i >= len(r.data) || r.data[r.i] != lit[k] {
			return r.syntax("in literal " + lit)
		}
		r.i++
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unquote decodes the inside of a valid JSON string as encoding/json does:
// escapes, surrogate pairs, and U+FFFD for a lone surrogate or a byte that
// is not UTF-8.
func unquote(s []byte, escaped bool) string {
	if !escaped && utf8.Valid(s) {
		return string(s)
	}
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\':
			switch s[i+1] {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(s[i+2:])
				i += 6
				if utf16.IsSurrogate(rr) {
					if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(s[i+2:])); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							i += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // '"', '\\', '/'
				b = append(b, s[i+1])
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			rr, size := utf8.DecodeRune(s[i:])
			b = utf8.AppendRune(b, rr)
			i += size
		}
	}
	return string(b)
}

// hex4 is the value of four hex digits, which str has checked.
func hex4(s []byte) rune {
	var r rune
	for _, c := range s[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}
