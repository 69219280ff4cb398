package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `qemgate gates maintenance pull requests on Gitea on openQA test results.

Usage:
  qemgate serve    [--config FILE]   run the HTTP server and the workers
  qemgate migrate  [--config FILE]   apply database migrations and exit
  qemgate metadata check PATH [--strict]
                                     validate metadata YAML files
  qemgate metadata plan --metadata DIR ...
                                     print the test plan of a PR, schedule nothing
  qemgate version                    print the version

Configuration comes from the YAML file given with --config (see
deploy/qemgate.example.yaml) and QEMGATE_* environment variables, which win.
`

// run is the whole program; main only wires it to the process. It returns
// the exit code: 0 success, 1 failure, 2 usage or configuration error.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return runServe(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, getenv, stdout, stderr)
	case "metadata":
		return runMetadata(ctx, rest, getenv, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintf(stdout, "qemgate %s (%s)\n", version, riverVersion())
		return 0
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "qemgate: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}

// commonFlags parses the flags every long-running command takes.
func commonFlags(name string, args []string, stderr io.Writer) (configPath string, ok bool) {
	fs := flag.NewFlagSet("qemgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&configPath, "config", "", "YAML configuration `file` (optional; QEMGATE_* variables override it)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: qemgate %s [--config FILE]\n", name)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return "", false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "qemgate %s: unexpected argument %q\n", name, fs.Arg(0))
		fs.Usage()
		return "", false
	}
	return configPath, true
}

func riverVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "river unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == "github.com/riverqueue/river" {
			return "river " + dep.Version
		}
	}
	return "river " + strings.TrimSpace("unknown")
}
