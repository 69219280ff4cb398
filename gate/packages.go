package gate

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// demotedSuffixes mark sub-packages that do not name an update well; qem-bot
// sorts them last so BUILD carries the main package.
var demotedSuffixes = []string{
	"-devel", "-debuginfo", "-debugsource", "-doc", "-lang", "-32bit", "-64bit",
	"-x86_64", "-aarch64", "-ppc64le", "-s390x", "-i586", "-noarch",
}

func demoted(pkg string) bool {
	if strings.Contains(pkg, "-livepatch-") || strings.Contains(pkg, "-kmp-") {
		return true
	}
	for _, s := range demotedSuffixes {
		if strings.HasSuffix(pkg, s) {
			return true
		}
	}
	return false
}

// SortPackages returns the unique, non-empty package names in qem-bot's order:
// representative names first (sub-package suffixes last), then shorter names,
// then by name. The first one goes into BUILD.
func SortPackages(pkgs []string) []string {
	out := make([]string, 0, len(pkgs))
	for _, p := range pkgs {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if da, db := demoted(a), demoted(b); da != db {
			if da {
				return 1
			}
			return -1
		}
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(out)
}

// IsLivepatch reports whether the update is a kernel livepatch, as qem-bot
// decides it: a kgraft/livepatch package and no full kernel package.
func IsLivepatch(pkgs []string) bool {
	live := false
	for _, p := range pkgs {
		if strings.HasPrefix(p, "kernel-default") || strings.HasPrefix(p, "kernel-source") || strings.HasPrefix(p, "kernel-azure") {
			return false
		}
		if strings.HasPrefix(p, "kgraft-patch-") || strings.HasPrefix(p, "kernel-livepatch") {
			live = true
		}
	}
	return live
}

type patchinfo struct {
	XMLName     xml.Name `xml:"patchinfo"`
	Incident    string   `xml:"incident,attr"`
	Packages    []string `xml:"package"`
	EmbargoDate string   `xml:"embargo_date"`
}

// Patchinfo is what the gate reads from an OBS _patchinfo file.
type Patchinfo struct {
	// Packages are the <package> entries, sorted and unique: where
	// gitea-sync takes a PR's packages from.
	Packages []string
	// EmbargoUntil is the <embargo_date>: the update is under a security
	// embargo until then (EmbargoForever when the date cannot be read).
	// Nil without one.
	EmbargoUntil *time.Time
}

// EmbargoForever stands for an embargo whose end cannot be read: it holds
// until the _patchinfo says otherwise.
var EmbargoForever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// embargoLayouts are the spellings of <embargo_date> read, UTC unless they
// carry a zone; a bare date lasts to the end of that day.
var embargoLayouts = []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"}

// ParsePatchinfo reads an OBS _patchinfo file
// (<patchinfo incident="N"><package>foo</package><embargo_date>…</embargo_date>…</patchinfo>).
func ParsePatchinfo(raw []byte) (Patchinfo, error) {
	var pi patchinfo
	dec := xml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&pi); err != nil {
		return Patchinfo{}, fmt.Errorf("parse _patchinfo: %w", err)
	}
	out := Patchinfo{Packages: make([]string, 0, len(pi.Packages))}
	for _, p := range pi.Packages {
		if p = strings.TrimSpace(p); p != "" {
			out.Packages = append(out.Packages, p)
		}
	}
	slices.Sort(out.Packages)
	out.Packages = slices.Compact(out.Packages)
	if d := strings.TrimSpace(pi.EmbargoDate); d != "" {
		until := EmbargoForever
		for _, layout := range embargoLayouts {
			if t, err := time.Parse(layout, d); err == nil {
				until = t.UTC()
				if layout == "2006-01-02" {
					until = until.AddDate(0, 0, 1)
				}
				break
			}
		}
		out.EmbargoUntil = &until
	}
	return out, nil
}

// PackagesFromPatchinfo reads the <package> entries of an OBS _patchinfo
// file, sorted and unique (ParsePatchinfo).
func PackagesFromPatchinfo(raw []byte) ([]string, error) {
	pi, err := ParsePatchinfo(raw)
	return pi.Packages, err
}

// Embargoed says whether an embargo that lasts until until (nil: none)
// still holds at now.
func Embargoed(until *time.Time, now time.Time) bool {
	return until != nil && now.Before(*until)
}

// rootFileExts are files at the top of a product repository that are not packages.
var rootFileExts = []string{".md", ".txt", ".yml", ".yaml", ".json", ".xml", ".toml", ".cfg", ".ini"}

// PackagesFromPaths derives package names from a PR's changed paths when it
// carries no _patchinfo: each package is a top-level directory (or submodule,
// which Gitea lists as a changed path without a slash). Dot and underscore
// entries and documentation/config files at the top are ignored.
func PackagesFromPaths(paths []string) []string {
	var out []string
	for _, p := range paths {
		p = strings.TrimPrefix(path.Clean("/"+p), "/")
		if p == "" {
			continue
		}
		top, _, nested := strings.Cut(p, "/")
		if strings.HasPrefix(top, ".") || strings.HasPrefix(top, "_") {
			continue
		}
		if !nested && slices.Contains(rootFileExts, strings.ToLower(path.Ext(top))) {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(top), "README") || strings.HasPrefix(strings.ToUpper(top), "LICENSE") {
			continue
		}
		out = append(out, top)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
