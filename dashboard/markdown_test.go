package dashboard

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRenderMarkdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"summary as Gitea shows it", "<!-- qemgate summary -->\n### openQA: failed\n\nCommit `abc`: 1 failed.\n\nBlocking:\n- [ltp@64bit](https://openqa.example.test/tests/1) failed (group Kernel, contact **kernel-qa**)\n- … and 2 more",
			"<h5>openQA: failed</h5>\n<p>Commit <code>abc</code>: 1 failed.</p>\n<p>Blocking:</p>\n<ul>\n<li><a href=\"https://openqa.example.test/tests/1\">ltp@64bit</a> failed (group Kernel, contact <strong>kernel-qa</strong>)</li>\n<li>… and 2 more</li>\n</ul>\n"},
		{"hard line breaks", "line one\nline two", "<p>line one<br>\nline two</p>\n"},
		{"HTML is text", `<script>alert(1)</script> <b>x</b>`, "<p>&lt;script&gt;alert(1)&lt;/script&gt; &lt;b&gt;x&lt;/b&gt;</p>\n"},
		{"no javascript links", "[x](javascript:alert(1))", "<p>[x](javascript:alert(1))</p>\n"},
		{"quotes in a link are escaped", `[a"b](https://e.test/?q="x")`, "<p><a href=\"https://e.test/?q=&#34;x&#34;\">a&#34;b</a></p>\n"},
		{"code is not markdown", "`**not bold** <i>`", "<p><code>**not bold** &lt;i&gt;</code></p>\n"},
		{"a comment over lines", "a<!-- one\ntwo -->b", "<p>ab</p>\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, string(renderMarkdown(tc.in)))
		})
	}
}

func TestReportKind(t *testing.T) {
	t.Parallel()
	require.Equal(t, "commit status qa/openqa", reportKind("status", "qa/openqa"))
	require.Equal(t, "request for changes", reportKind("decline", "3f2a9c0d1e"))
	require.Equal(t, "summary comment", reportKind("summary", ""))
}
