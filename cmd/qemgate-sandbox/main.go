// Command qemgate-sandbox runs qemgate wired to a fake Gitea and a fake
// openQA on loopback, with a demo pull request, so the whole story can be
// driven with curl. `make sandbox` starts it with a throwaway PostgreSQL.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("qemgate-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "qemgate's address")
	fs.StringVar(&o.GiteaAddr, "gitea", "127.0.0.1:3000", "the fake Gitea's address")
	fs.StringVar(&o.OpenQAAddr, "openqa", "127.0.0.1:9526", "the fake openQA's address")
	fs.StringVar(&o.OBSAddr, "obs", "", "start a fake OBS (and a fake SMELT on a free port) at this address: the PR's products and build state then come from it")
	fs.BoolVar(&o.RabbitMQ, "rabbitmq", false, "start a RabbitMQ node of its own (needs rabbitmq-server): Gitea's and openQA's events then come through the broker, as in SUSE's infrastructure, not through webhooks")
	fs.StringVar(&o.LogLevel, "log-level", "info", "qemgate's log level")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	o.DatabaseURL = getenv("QEMGATE_DATABASE_URL")
	if o.DatabaseURL == "" {
		fmt.Fprintln(stderr, "qemgate-sandbox: QEMGATE_DATABASE_URL is not set; run it with `make sandbox`, which starts a throwaway PostgreSQL")
		return 2
	}
	sb, err := start(ctx, o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "qemgate-sandbox: %v\n", err)
		return 1
	}
	defer sb.Close()
	sb.PrintStory(stdout)
	select {
	case <-ctx.Done():
	case err := <-sb.Done():
		if err != nil {
			fmt.Fprintf(stderr, "qemgate-sandbox: %v\n", err)
			return 1
		}
	}
	fmt.Fprintln(stdout, "\nstopping the sandbox")
	return 0
}
