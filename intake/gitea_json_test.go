package intake

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// giteaBodies are the captured Gitea deliveries.
func giteaBodies(tb testing.TB) map[string][]byte {
	tb.Helper()
	paths, err := filepath.Glob("../testdata/fixtures/gitea/*.json")
	if err != nil {
		tb.Fatal(err)
	}
	bodies := map[string][]byte{}
	for _, p := range paths {
		if strings.HasSuffix(p, ".headers.json") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		bodies[filepath.Base(p)] = b
	}
	if len(bodies) < 6 {
		tb.Fatalf("found %d captured deliveries, want the 6 of testdata/fixtures/gitea", len(bodies))
	}
	return bodies
}

// sameAsEncodingJSON fails unless decodeGiteaPayload and json.Unmarshal
// agree on body: both fail, or both give the same payload.
func sameAsEncodingJSON(t *testing.T, body []byte) {
	t.Helper()
	var want giteaPayload
	wantErr := json.Unmarshal(body, &want)
	got, err := decodeGiteaPayload(body)
	switch {
	case (err == nil) != (wantErr == nil):
		t.Fatalf("%.200q: error %v, encoding/json says %v", body, err, wantErr)
	case err == nil && !reflect.DeepEqual(got, want):
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Fatalf("%.200q:\n got %s\nwant %s", body, g, w)
	}
}

// giteaPayloadEdges are the corners of JSON and of encoding/json's
// decoding that the reader must agree on.
var giteaPayloadEdges = []string{
	`{}`, `null`, ` {"action" : "opened" } `, `[]`, `"x"`, `1`, `true`, ``, ` `, `{`, `}`, `{"action":"x"} {}`, `{"action":"x"}x`,
	`{"action":"x",}`, `{,}`, `{"action" "x"}`, `{"action":}`, `[1,]`, `[1 2]`, `{"a":[1,{"b":[]}],"c":{}}`,
	// numbers
	`{"number":5}`, `{"number":-5}`, `{"number":-0}`, `{"number":0}`, `{"number":01}`, `{"number":1.5}`, `{"number":1e2}`,
	`{"number":1E+2}`, `{"number":9223372036854775807}`, `{"number":9223372036854775808}`, `{"number":-9223372036854775808}`,
	`{"number":"5"}`, `{"number":null}`, `{"number":true}`, `{"number":{}}`, `{"number":[]}`, `{"x":-}`, `{"x":1.}`, `{"x":.5}`,
	`{"x":+1}`, `{"x":1e}`, `{"x":1e+}`, `{"x":0x1}`, `{"x":NaN}`, `{"x":-01}`,
	// strings
	`{"action":"a\"b\\c\/d\b\f\n\r\t"}`, `{"action":"\u00e9\u20AC"}`, `{"action":"\ud83d\ude00"}`, `{"action":"\ud800"}`,
	`{"action":"\ud800x"}`, `{"action":"\ud800\u0041"}`, `{"action":"\udc00\ud800"}`, `{"action":"\ud800\\u0041"}`, `{"action":"\u00zz"}`,
	`{"action":"\x"}`, "{\"action\":\"a\x01\"}", "{\"action\":\"a\xff\xfeb\"}", "{\"action\":\"\xe2\x82\"}", `{"action":"x`,
	`{"action":null}`, `{"action":5}`, `{"action":{}}`, `{"action":[]}`, `{"action":false}`, "\ufeff{}", "{\"action\":\"\u2028\"}",
	// keys
	`{"ACTION":"x"}`, `{"Action":"x","action":"y"}`, `{"action":"y","ACTION":"x"}`, `{"\u0061ction":"x"}`, `{"ſha":"x"}`,
	`{"sha":"a","sha":"b"}`, `{"pull_reQuest":{"Number":3}}`, `{"context":"x","Context":null}`,
	// pointers and structs
	`{"pull_request":null}`, `{"pull_request":{}}`, `{"pull_request":[]}`, `{"pull_request":"x"}`, `{"pull_request":1}`,
	`{"pull_request":{"number":3},"pull_request":{"head":{"sha":"ab"}}}`, `{"pull_request":{"number":3},"pull_request":null}`,
	`{"pull_request":{"number":3},"pull_request":null,"pull_request":{}}`, `{"pull_request":{"head":null}}`,
	`{"pull_request":{"head":[]}}`, `{"pull_request":{"head":{"sha":1}}}`, `{"pull_request":{"head":{"sha":"x","sha":null}}}`,
	`{"is_pull":true}`, `{"is_pull":false}`, `{"is_pull":null}`, `{"is_pull":"true"}`, `{"is_pull":1}`, `{"is_pull":true,"is_pull":null}`,
	`{"issue":{"number":4,"pull_request":{"merged":false}}}`, `{"issue":{"pull_request":[1,"x",{"a":null}]}}`,
	`{"comment":{"user":{"login":"bot"}}}`, `{"comment":{"user":null}}`, `{"comment":null}`, `{"comment":{"user":"x"}}`,
	`{"repository":{"full_name":"a/b","owner":{"login":"a"}},"sender":{"login":"s"}}`, `{"repository":{"full_name":["a"]}}`,
	// a type error, then a syntax error, then a type error again
	`{"number":"x","action":"y"}`, `{"number":"x","action":`, `{"number":"x","action":"y","number":3}`,
	// depth
	nested(10000), nested(10001), `{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
	`{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
}

// nested is n objects, each the value of the one around it.
func nested(n int) string {
	return strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
}

func TestDecodeGiteaPayloadAgreesWithEncodingJSON(t *testing.T) {
	for name, body := range giteaBodies(t) {
		t.Run(name, func(t *testing.T) { sameAsEncodingJSON(t, body) })
	}
	for _, body := range giteaPayloadEdges {
		sameAsEncodingJSON(t, []byte(body))
	}
}

func TestDecodeGiteaPayloadReadsTheCapturedDelivery(t *testing.T) {
	p, err := decodeGiteaPayload(giteaBodies(t)["pull_request_synchronized.json"])
	if err != nil {
		t.Fatal(err)
	}
	if p.Action != "synchronized" || p.PullRequest == nil || p.PullRequest.Number == 0 || len(p.PullRequest.Head.SHA) != 40 ||
		p.Repository == nil || p.Repository.FullName == "" || p.Sender == nil || p.Sender.Login == "" {
		t.Fatalf("routing fields missing: %+v", p)
	}
}

// A hostile body costs time in proportion to its length, however deep.
func TestDecodeGiteaPayloadDeepBodyFailsFast(t *testing.T) {
	body := []byte(`{"a":` + strings.Repeat("[", 1<<20))
	if _, err := decodeGiteaPayload(body); err == nil || !strings.Contains(err.Error(), "maximum depth") {
		t.Fatalf("1 MiB of [: %v, want the depth error", err)
	}
}

// FuzzGiteaPayload checks the one-pass reader against encoding/json on
// any body: the same error or none, the same values.
func FuzzGiteaPayload(f *testing.F) {
	for _, body := range giteaBodies(f) {
		f.Add(body)
	}
	for _, body := range giteaPayloadEdges {
		if len(body) < 1000 {
			f.Add([]byte(body))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) { sameAsEncodingJSON(t, body) })
}

func BenchmarkDecodeGiteaPayload(b *testing.B) {
	body := giteaBodies(b)["pull_request_synchronized.json"]
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if _, err := decodeGiteaPayload(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var p giteaPayload
			if err := json.Unmarshal(body, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
}
