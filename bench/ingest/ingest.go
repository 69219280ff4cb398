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
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/qemgate/qemgate/bench/delivery"
	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/handlers"
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
}

// startIngest serves handlers.NewServer as `qemgate serve` builds it, with
// an insert-only River client: jobs are enqueued in the delivery's
// transaction as in production, and never worked, so the measurement is
// the receiver alone.
func startIngest(ctx context.Context, pool *pgxpool.Pool, src *delivery.Source, concurrency int) (*ingest, error) {
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
	h := handlers.NewServer(handlers.Deps{
		Config: cfg,
		// Production logs one JSON line per delivery; format it, write nowhere.
		Logger:  slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Store:   st,
		Ingest:  &jobs.Ingest{Store: st, River: rc},
		Metrics: handlers.NewMetrics(prometheus.NewRegistry()),
		Ready:   func(context.Context) (map[string]string, error) { return nil, nil },
	})
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return &ingest{
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
	}, nil
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
}
