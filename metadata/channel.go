package metadata

import (
	"fmt"
	"strings"
)

// ChannelType tells how a channel is matched, following qem-bot's prefixes.
type ChannelType string

const (
	// ChannelUpdates is a classic SUSE:Updates product:version channel.
	ChannelUpdates ChannelType = "updates"
	// ChannelSLFO is a git (SLFO) channel: matched on product version, else on the OBS project prefix.
	ChannelSLFO ChannelType = "slfo"
	// ChannelOpenSUSE is an openSUSE (Leap) channel.
	ChannelOpenSUSE ChannelType = "opensuse"
)

// TypeOfProduct classifies a channel's product the way qem-bot does: by prefix.
func TypeOfProduct(product string) ChannelType {
	switch {
	case strings.HasPrefix(product, "SUSE:SLFO"), strings.HasPrefix(product, "SLFO"):
		return ChannelSLFO
	case strings.HasPrefix(product, "openSUSE"):
		return ChannelOpenSUSE
	default:
		return ChannelUpdates
	}
}

// Channel is a parsed issue channel (metadata `issues` / `test_issues` values)
// or a PR channel. Version is the OBS project (prefix) for SLFO channels and
// the codestream version otherwise. Arch is empty when the channel applies to
// every architecture the PR is built for.
type Channel struct {
	Product        string `json:"product"`
	Version        string `json:"version"`
	ProductVersion string `json:"product_version,omitempty"`
	Arch           string `json:"arch,omitempty"`
}

// Type is the matching rule family of the channel.
func (c Channel) Type() ChannelType { return TypeOfProduct(c.Product) }

// String renders the channel in the metadata spelling "product:version[#pv]".
func (c Channel) String() string {
	s := c.Product + ":" + c.Version
	if c.Arch != "" {
		s += ":" + c.Arch
	}
	if c.ProductVersion != "" {
		s += "#" + c.ProductVersion
	}
	return s
}

// ParseIssueChannel parses a metadata issue value: "<product>:<version>" or, for
// SLFO, "SLFO:<OBS project prefix>#<product version>". Everything after the
// first ':' up to '#' is the version, so "SLFO:1.1.99:PullRequest:124:SLES#15.99"
// keeps its product version (qem-bot only looks at the second ':' field there).
func ParseIssueChannel(s string) (Channel, error) {
	product, rest, ok := strings.Cut(s, ":")
	if !ok || product == "" || rest == "" {
		return Channel{}, fmt.Errorf("channel %q: want <product>:<version>[#<product version>]", s)
	}
	version, pv, _ := strings.Cut(rest, "#")
	if version == "" {
		return Channel{}, fmt.Errorf("channel %q: empty version", s)
	}
	return Channel{Product: product, Version: version, ProductVersion: pv}, nil
}

// ParsePullChannel parses a channel configured for a repository branch. It
// accepts the metadata spelling (arch-independent, e.g. "SLFO:1.1.99#16.0")
// and the two OBS spellings qem-bot derives from build results:
// "SUSE:SLFO:<project>:<arch>#<pv>" and "SUSE:Updates:<product>:<version>[:<arch>]".
func ParsePullChannel(s string) (Channel, error) {
	switch {
	case strings.HasPrefix(s, "SUSE:SLFO:"):
		body, pv, _ := strings.Cut(s, "#")
		parts := strings.Split(body, ":")
		if len(parts) < 4 {
			return Channel{}, fmt.Errorf("channel %q: want SUSE:SLFO:<project>:<arch>#<product version>", s)
		}
		return Channel{
			Product:        "SUSE:SLFO",
			Version:        strings.Join(parts[2:len(parts)-1], ":"),
			Arch:           parts[len(parts)-1],
			ProductVersion: pv,
		}, nil
	case strings.HasPrefix(s, "SUSE:Updates:"):
		parts := strings.Split(s, ":")[2:]
		switch len(parts) {
		case 3:
			return Channel{Product: parts[0], Version: parts[1], Arch: parts[2]}, nil
		case 2:
			// qem-bot reads an arch-less Updates channel as x86_64.
			return Channel{Product: parts[0], Version: parts[1], Arch: "x86_64"}, nil
		}
		return Channel{}, fmt.Errorf("channel %q: want SUSE:Updates:<product>:<version>[:<arch>]", s)
	}
	return ParseIssueChannel(s)
}

// MatchesIssue reports whether this PR channel satisfies the metadata issue
// channel on arch, with qem-bot's rules: SLFO issues match any SLFO channel on
// the same arch with the same product version, or (without a product version)
// whose OBS project starts with the issue's version; other issues need the
// same product, version and product version.
func (c Channel) MatchesIssue(issue Channel, arch string) bool {
	if c.Arch != "" && c.Arch != arch {
		return false
	}
	if issue.Type() == ChannelSLFO {
		if c.Type() != ChannelSLFO {
			return false
		}
		if issue.ProductVersion != "" {
			return c.ProductVersion == issue.ProductVersion
		}
		return strings.HasPrefix(c.Version, issue.Version)
	}
	return c.Product == issue.Product && c.Version == issue.Version && c.ProductVersion == issue.ProductVersion
}

// MatchChannels returns the channels that satisfy issue on arch.
func MatchChannels(issue Channel, channels []Channel, arch string) []Channel {
	var out []Channel
	for _, c := range channels {
		if c.MatchesIssue(issue, arch) {
			out = append(out, c)
		}
	}
	return out
}
