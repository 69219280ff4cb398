package giteafake

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strings"
)

// splitRefPath resolves "<ref>/<file path>" the way Gitea's RepoRefForAPI
// does when no ?ref= is given: legacy "branch/", "tag/", "commit/" prefixes,
// then the longest branch name, then a (possibly abbreviated) SHA, else the
// default branch with the whole path.
func (s *Server) splitRefPath(r *repo, p string) (*commit, string) {
	for _, kind := range []string{"branch/", "commit/", "tag/"} {
		if rest, ok := strings.CutPrefix(p, kind); ok {
			c, fp := s.splitRefPath(r, rest)
			return c, fp
		}
	}
	branches := make([]string, 0, len(r.branches))
	for b := range r.branches {
		branches = append(branches, b)
	}
	sort.Slice(branches, func(i, j int) bool { return len(branches[i]) > len(branches[j]) })
	for _, b := range branches {
		if rest, ok := strings.CutPrefix(p, b+"/"); ok {
			return s.commits[r.branches[b]], rest
		}
	}
	if first, rest, ok := strings.Cut(p, "/"); ok {
		if c := s.resolveRef(r, first); c != nil {
			return c, rest
		}
	}
	return s.commits[r.branches[r.defaultBranch]], p
}

func (s *Server) fileAt(rc *reqCtx) (*repo, *commit, string, error) {
	r, err := s.repoFromRequest(rc)
	if err != nil {
		return nil, nil, "", err
	}
	fp := rc.param("path")
	var c *commit
	if ref := rc.r.URL.Query().Get("ref"); ref != "" {
		c = s.resolveRef(r, ref)
	} else {
		c, fp = s.splitRefPath(r, fp)
	}
	if c == nil {
		return nil, nil, "", notFound()
	}
	if _, ok := c.tree[fp]; !ok {
		return nil, nil, "", notFound()
	}
	return r, c, fp, nil
}

func handleRaw(rc *reqCtx) error {
	s := rc.s
	_, c, fp, err := s.fileAt(rc)
	if err != nil {
		return err
	}
	content := c.tree[fp]
	rc.w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	rc.w.WriteHeader(http.StatusOK)
	_, _ = rc.w.Write([]byte(content))
	return nil
}

func blobSHA(content string) string {
	sum := sha1.Sum([]byte(fmt.Sprintf("blob %d\x00%s", len(content), content)))
	return hex.EncodeToString(sum[:])
}

func handleContents(rc *reqCtx) error {
	s := rc.s
	r, c, fp, err := s.fileAt(rc)
	if err != nil {
		return err
	}
	content := c.tree[fp]
	enc := "base64"
	b64 := base64.StdEncoding.EncodeToString([]byte(content))
	self := fmt.Sprintf("%sapi/v1/repos/%s/contents/%s?ref=%s", s.root, r.fullName(), fp, c.sha)
	html := fmt.Sprintf("%s%s/src/commit/%s/%s", s.root, r.fullName(), c.sha, fp)
	raw := fmt.Sprintf("%s%s/raw/commit/%s/%s", s.root, r.fullName(), c.sha, fp)
	sha := blobSHA(content)
	git := fmt.Sprintf("%sapi/v1/repos/%s/git/blobs/%s", s.root, r.fullName(), sha)
	rc.json(http.StatusOK, &apiContents{
		Name: path.Base(fp), Path: fp, SHA: sha, LastCommitSha: c.sha, Type: "file",
		Size: int64(len(content)), Encoding: &enc, Content: &b64,
		URL: &self, HTMLURL: &html, GitURL: &git, DownloadURL: &raw,
		Links: map[string]string{"self": self, "git": git, "html": html},
	})
	return nil
}
