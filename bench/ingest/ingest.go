package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/qemgate/qemgate/bench/delivery"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/handlers"
	"github.com/qemgate/qemgate/intake"
	"github.com/qemgate/qemgate/jobs"
	"github.com/qemgate/qemgate/store"
)

// webhookSecret signs every body; the receiver is configured with it.
const webhookSecret = "bench-secret"

// ingest is the real receiver on a loopback port and a client that posts
// deliveries to it the way Gitea does: one request per delivery, over
// kept-alive connections.
type ingest struct {
	srv    *http.Server
	url    string
	client *http.Client
	source *delivery.Source
	in     *jobs.Ingest
	stop   context.CancelFunc
	done   chan struct{}
	// groups and grouped count the group commits and their deliveries.
	groups, grouped atomic.Int64
}

// oneTransaction is the receiver as it was before the dispatcher: every
// delivery stored with its River job in one transaction (AcceptNow), for
// the before/after comparison (-path now).
type oneTransaction struct{ *jobs.Ingest }

func (o oneTransaction) Accept(ctx context.Context, d *store.Delivery, intent jobs.Intent) (jobs.Accepted, error) {
	return o.AcceptNow(ctx, d, intent)
}

// startIngest serves handlers.NewServer as `qemgate serve` builds it, with
// its dispatcher running beside it as in production and an insert-only
// River client: jobs are inserted and never worked, so the measurement is
// the receiver and the dispatcher alone. With path "now" deliveries are
// stored with their jobs in one transaction, as before the dispatcher.
func startIngest(ctx context.Context, pool *pgxpool.Pool, src *delivery.Source, concurrency int, path string) (*ingest, error) {
	cfg := config.Default()
	cfg.Gitea.WebhookSecrets = []string{webhookSecret}
	cfg.Gitea.Repos = []config.Repo{{Name: "products/SLFO"}}
	workers := river.NewWorkers()
	jobs.Register(workers, jobs.Deps{})
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: workers})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	st := store.New(pool)
	ing := &ingest{}
	in := &jobs.Ingest{Store: st, River: rc, OnGroup: func(n int) {
		ing.groups.Add(1)
		ing.grouped.Add(int64(n))
	}}
	var ingester intake.Ingester = in
	if path == pathNow {
		ingester = oneTransaction{in}
	}
	h := handlers.NewServer(handlers.Deps{
		Config: cfg,
		// Production logs one JSON line per delivery; format it, write nowhere.
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Store:   st,
		Ingest:  ingester,
		Metrics: handlers.NewMetrics(prometheus.NewRegistry()),
		Ready:   func(context.Context) (map[string]string, error) { return nil, nil },
	})
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	dctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); in.RunDispatcher(dctx, jobs.DispatchSweep) }()
	*ing = ingest{
		srv: srv,
		url: "http://" + ln.Addr().String() + "/webhooks/gitea",
		client: &http.Client{
			Timeout: 10 * time.Second, // longer than the receiver's own 4 s, so its answer is what we see
			Transport: &http.Transport{
				MaxIdleConnsPerHost: concurrency,
				MaxConnsPerHost:     concurrency,
				DisableCompression:  true,
			},
		},
		source: src,
		in:     in,
		stop:   stop,
		done:   done,
	}
	return ing, nil
}

// meanGroup is the mean number of deliveries per group commit so far.
func (in *ingest) meanGroup() float64 {
	if n := in.groups.Load(); n > 0 {
		return float64(in.grouped.Load()) / float64(n)
	}
	return 0
}

// deliver posts delivery seq: a fresh delivery id, about PR seq mod N.
// Latency runs from sending the request to having read the whole answer.
func (in *ingest) deliver(ctx context.Context, seq int64) (string, error) {
	body, header := in.source.Next(seq)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.url, bytes.NewReader(body))
	if err != nil {
		return "error", err
	}
	req.Header = header
	resp, err := in.client.Do(req)
	if err != nil {
		return "error", err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	code := strconv.Itoa(resp.StatusCode)
	switch {
	case err != nil:
		return code, fmt.Errorf("read answer: %w", err)
	case resp.StatusCode != http.StatusAccepted:
		return code, errors.New("HTTP " + code + ": " + string(bytes.TrimSpace(answer)))
	}
	return code, nil
}

func (in *ingest) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = in.srv.Shutdown(ctx)
	in.client.CloseIdleConnections()
	in.stop()
	<-in.done
}

// drain waits until the dispatcher has inserted the jobs of every stored
// delivery and says how long that took after the last acknowledgement.
func (in *ingest) drain(ctx context.Context, pool *pgxpool.Pool) (time.Duration, error) {
	start := time.Now()
	deadline := start.Add(time.Minute)
	for {
		n, err := store.PendingWork(ctx, pool)
		if err != nil {
			return 0, err
		}
		if n == 0 {
			return time.Since(start), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d deliveries still not dispatched after a minute", n)
		}
		in.in.Wake()
		time.Sleep(2 * time.Millisecond)
	}
}
