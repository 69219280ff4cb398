package demo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/obsfake"
	"github.com/qemgate/qemgate/fake/smeltfake"
	"github.com/qemgate/qemgate/smelt"
)

// The build service and SMELT of the story.
const (
	OBSUser     = "qam-obs"
	OBSPassword = "demo-obs-password"
	// SMELTHost is the Gitea host in SMELT's key of a PR.
	SMELTHost = "src.example.test"
	// SCMSync is what the staging projects are synced from: SLFO 16.0.
	SCMSync = "https://src.example.test/products/SLFO#16.0"
)

// StagingProject is the OBS project the staging bot builds PR number's
// SLES in.
func StagingProject(number int64) string {
	return "SUSE:SLFO:1.1.99:PullRequest:" + strconv.FormatInt(number, 10) + ":SLES"
}

// StagingComment is the staging bot's comment that links the project.
func StagingComment(number int64) string {
	return fmt.Sprintf("Build is started in https://build.example.test/project/show/%s .\n\nAdditional QA builds: none",
		StagingProject(number))
}

// NewOBS starts a fake OBS (on addr, or a free loopback port when empty)
// that wants the story's credentials.
func NewOBS(addr string) *obsfake.Server {
	return obsfake.New(obsfake.Options{Addr: addr, User: OBSUser, Password: OBSPassword})
}

// BuildSLES puts PR number's SLES staging project into the fake, built from
// sha: 000productcompose for x86_64 and aarch64 (and local), every result
// in state, every flavor's package with code.
func BuildSLES(o *obsfake.Server, number int64, sha, state, code string) {
	var results []obsfake.Result
	for _, arch := range []string{"local", "x86_64", "aarch64"} {
		pkgs := []obsfake.Package{{Name: "000productcompose", Code: "excluded"}}
		for _, flavorArch := range []string{"x86_64", "aarch64"} {
			c := "excluded"
			if arch == flavorArch {
				c = code
			}
			pkgs = append(pkgs, obsfake.Package{Name: "000productcompose:sles_" + flavorArch, Code: c})
		}
		if arch == "local" {
			pkgs[0].Code = "succeeded"
		}
		results = append(results, obsfake.Result{Repository: "product", Arch: arch, State: state, Packages: pkgs})
	}
	results = append(results, obsfake.Result{Repository: "standard", Arch: "x86_64", State: "published",
		Packages: []obsfake.Package{{Name: "openssl-3", Code: "succeeded"}}})
	o.SetProject(StagingProject(number), obsfake.Project{
		SCMSync: SCMSync, SCMInfo: sha,
		Flavors: []string{"sles_x86_64", "sles_aarch64"},
		Results: results,
	})
}

// NewSMELT starts a fake SMELT (on addr, or a free loopback port).
func NewSMELT(addr string) *smeltfake.Server { return smeltfake.New(addr) }

// SMELTKey is SMELT's name of the story's PR number.
func SMELTKey(number int64) string { return smelt.Key(SMELTHost, Repo, number) }

// WithOBS points cfg at a fake OBS (and, when smeltURL is set, a fake SMELT).
func WithOBS(cfg *config.Config, obsURL, smeltURL string) {
	cfg.OBS.URL = obsURL
	cfg.OBS.User = OBSUser
	cfg.OBS.Password = OBSPassword
	cfg.OBS.Timeout = config.Duration(2 * time.Second)
	cfg.OBS.StagingBot = StagingBot
	if smeltURL != "" {
		cfg.SMELT.URL = smeltURL
		cfg.SMELT.GiteaHost = SMELTHost
		cfg.SMELT.Timeout = config.Duration(2 * time.Second)
	}
}
