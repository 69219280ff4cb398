package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/fake/giteafake"
	"github.com/qemgate/qemgate/fake/openqafake"
	"github.com/qemgate/qemgate/forge"
	"github.com/qemgate/qemgate/gate"
	"github.com/qemgate/qemgate/internal/demo"
	"github.com/qemgate/qemgate/internal/pgtest"
	"github.com/qemgate/qemgate/internal/rabbittest"
)

// The crash test's timing. Attempts are bounded by crashJobTimeout and a
// killed process's jobs are retried crashRescueAfter after they began, by
// River's rescuer, which runs every 30 s on the leader; a new leader is
// elected within River's 15 s leadership TTL.
const (
	crashPoll         = 3 * time.Second
	crashJobTimeout   = 10 * time.Second
	crashRescueAfter  = 15 * time.Second
	crashRescuerEvery = 30 * time.Second
	crashLeaderTTL    = 15 * time.Second
	crashPulls        = 8
	crashKills        = 4
)

// crashBound is how long after its last restart every PR must have
// converged: a new leader, then a rescue of the dead process's jobs, then
// two poll passes for what no event said while it was down (the bound
// docs/architecture.md states, with this test's settings), plus the work.
const crashBound = crashLeaderTTL + crashRescueAfter + crashRescuerEvery + 2*crashPoll + 30*time.Second

// qemgateProcess is `qemgate serve` as a child process.
type qemgateProcess struct {
	t      *testing.T
	bin    string
	config string
	url    string
	logs   *os.File
	cmd    *exec.Cmd
	exited chan struct{}
}

func (p *qemgateProcess) start(ctx context.Context) {
	p.t.Helper()
	p.cmd = exec.Command(p.bin, "serve", "--config", p.config)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.Env = append(os.Environ(), "QEMGATE_LOG_LEVEL=info")
	require.NoError(p.t, p.cmd.Start())
	exited := make(chan struct{})
	p.exited = exited
	go func(cmd *exec.Cmd) { _ = cmd.Wait(); close(exited) }(p.cmd)
	require.Eventually(p.t, func() bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "qemgate did not become ready:\n%s", p.tail())
}

// kill ends the process with SIGKILL: no drain, no soft stop, no completion.
func (p *qemgateProcess) kill() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Kill())
	<-p.exited
}

func (p *qemgateProcess) tail() string {
	b, _ := os.ReadFile(p.logs.Name())
	lines := strings.Split(string(b), "\n")
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// `qemgate serve` is killed with SIGKILL four times while PRs flow in:
// every delivery it acknowledged is stored, every PR converges to its
// outcome within crashBound of the last restart, and nothing is posted twice
// (isos, approval, request for changes, summary comment).
func TestCrashKillNineUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the qemgate binary")
	}
	t.Parallel()
	crashUnderLoad(t, false)
}

// The same over RabbitMQ: Gitea's events come through its publisher and
// openQA's through its AMQP plugin, and qemgate is killed while messages
// flow. Every message published is stored exactly once (a message it had
// not acknowledged is delivered again and collapses into its row), and
// nothing is posted twice.
func TestCrashKillNineUnderLoadOverTheBus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the qemgate binary")
	}
	t.Parallel()
	crashUnderLoad(t, true)
}

// recordingPublisher remembers every message it put on the bus.
type recordingPublisher struct {
	demo.Publisher
	mu   sync.Mutex
	sent []sentMessage
}

type sentMessage struct {
	key  string
	body []byte
}

func (p *recordingPublisher) Publish(key string, body []byte) error {
	if err := p.Publisher.Publish(key, body); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent = append(p.sent, sentMessage{key, append([]byte(nil), body...)})
	return nil
}

func (p *recordingPublisher) messages() []sentMessage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]sentMessage(nil), p.sent...)
}

func crashUnderLoad(t *testing.T, viaBus bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()

	bin := filepath.Join(dir, "qemgate")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/qemgate/qemgate/cmd/qemgate")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	qemgateURL := "http://" + freeAddr(t)
	gitea, err := demo.NewGitea("")
	require.NoError(t, err)
	defer gitea.Close()
	oq := demo.NewOpenQA("", qemgateURL)
	defer oq.Close()
	var bus *recordingPublisher
	var amqpCfg config.AMQP
	if viaBus {
		broker := rabbittest.Shared(t)
		amqpCfg = config.Default().AMQP
		amqpCfg.URL, amqpCfg.Exchange, amqpCfg.Queue = broker.URL, "pubsub-crash", "qemgate-crash"
		broker.DeclareTopicExchange(t, amqpCfg.Exchange)
		// The queue exists before the first event, as on a broker qemgate
		// has consumed from before.
		broker.BindQueue(t, amqpCfg.Queue, amqpCfg.Exchange, "suse.#")
		amqp := &demo.AMQPPublisher{URL: broker.URL, Exchange: amqpCfg.Exchange}
		defer amqp.Close()
		bus = &recordingPublisher{Publisher: amqp}
		publisher := &http.Server{Handler: &demo.GiteaPublisher{Bus: bus, Prefix: "suse"}}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = publisher.Serve(ln) }()
		defer publisher.Close()
		require.NoError(t, demo.HookGitea(gitea, "http://"+ln.Addr().String()))
		oq.SetHookEnabled(false)
		oq.SetPublisher(bus, "suse")
	} else {
		require.NoError(t, demo.HookGitea(gitea, qemgateURL))
	}
	// Slow neighbours keep jobs running long enough for a kill to find them
	// mid-flight (a sync or a report makes several calls).
	gitea.AddFault(giteafake.Fault{Path: "/api/v1/**", Latency: 150 * time.Millisecond})
	for _, endpoint := range []string{"isos", "job", "comments", "job_group"} {
		oq.InjectFault(endpoint, openqafake.Fault{Latency: 150 * time.Millisecond})
	}

	metaDir := filepath.Join(dir, "metadata")
	require.NoError(t, os.Mkdir(metaDir, 0o755))
	require.NoError(t, demo.WriteMetadata(metaDir))
	cfg := demo.Config(qemgateURL, gitea.URL(), oq.URL(), metaDir)
	cfg.DatabaseURL = pgtest.URL(t)
	cfg.Listen = strings.TrimPrefix(qemgateURL, "http://")
	cfg.Poll = config.Poll{Gitea: config.Duration(crashPoll), OpenQA: config.Duration(crashPoll), OpenQAStaleAfter: config.Duration(crashPoll)}
	cfg.Workers.JobTimeout = config.Duration(crashJobTimeout)
	cfg.Workers.RescueAfter = config.Duration(crashRescueAfter)
	cfg.ShutdownWait = config.Duration(2 * time.Second)
	cfg.Aggregates.Schedule = "off"
	cfg.AMQP = amqpCfg
	raw, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	cfgPath := filepath.Join(dir, "qemgate.yaml")
	require.NoError(t, os.WriteFile(cfgPath, raw, 0o600))

	logs, err := os.Create(filepath.Join(dir, "qemgate.log"))
	require.NoError(t, err)
	defer logs.Close()
	proc := &qemgateProcess{t: t, bin: bin, config: cfgPath, url: qemgateURL, logs: logs}
	proc.start(ctx)
	defer func() {
		if t.Failed() {
			kept := filepath.Join(os.TempDir(), fmt.Sprintf("qemgate-crash-%d.log", time.Now().Unix()))
			if b, err := os.ReadFile(logs.Name()); err == nil && os.WriteFile(kept, b, 0o644) == nil {
				t.Logf("qemgate's whole log: %s", kept)
			}
			t.Logf("qemgate's last log lines:\n%s", proc.tail())
		}
		proc.kill()
	}()

	pool, err := pgxpool.New(ctx, cfg.DatabaseURL)
	require.NoError(t, err)
	defer pool.Close()

	// openQA works on its own: every job it creates runs and ends, the
	// job-done hook calling qemgate, up or down. One job of every third PR fails.
	failing := map[string]bool{} // BUILD values whose first x86_64 job fails
	var mu sync.Mutex
	openqaDone := make(chan struct{})
	go func() {
		defer close(openqaDone)
		seen := map[int64]bool{}
		for ctx.Err() == nil {
			for _, j := range oq.Jobs() {
				if seen[j.ID] || j.State != "scheduled" {
					continue
				}
				seen[j.ID] = true
				mu.Lock()
				fail := failing[j.Settings["BUILD"]] && j.Settings["ARCH"] == "x86_64" && j.Settings["TEST"] == "qam-minimal"
				mu.Unlock()
				result := "passed"
				if fail {
					result = "failed"
				}
				_ = oq.FinishJob(j.ID, result)
			}
			select {
			case <-ctx.Done():
			case <-time.After(150 * time.Millisecond):
			}
		}
	}()

	// The load: PRs opened, asked for review and built, one after another,
	// while the process is killed and started again.
	type opened struct {
		giteafake.PullInfo
		fails bool
	}
	var pulls []opened
	killAt := map[int]bool{1: true, 3: true, 5: true, 7: true}
	var lastRestart time.Time
	kills, runningAtKills := 0, 0
	for i := range crashPulls {
		pkg := fmt.Sprintf("pkg%d", i)
		pr, err := gitea.OpenPull(giteafake.PullOptions{Owner: owner, Repo: repoName, Author: author, HeadOwner: author,
			Head: "crash-" + pkg, Title: "Update " + pkg,
			Files: map[string]string{demo.PatchinfoPath: strings.ReplaceAll(patchinfo, `incident="1"`, fmt.Sprintf(`incident="%d"`, 100+i))}})
		require.NoError(t, err)
		require.NoError(t, gitea.RequestReview(owner, repoName, pr.Number, requester, nil, []string{reviewTeam}))
		fails := i%3 == 2
		if fails {
			mu.Lock()
			failing[fmt.Sprintf(":git:%d:openssl-3", pr.Number)] = true
			mu.Unlock()
		}
		_, err = gitea.SubmitReview(owner, repoName, pr.Number, giteafake.ReviewOptions{User: stagingBot, State: "APPROVED", Body: "Build successful", CommitID: pr.HeadSHA})
		require.NoError(t, err)
		pulls = append(pulls, opened{pr, fails})
		time.Sleep(time.Duration(400+200*(i%3)) * time.Millisecond) // work is under way when the kill comes
		if killAt[i] {
			var running int
			require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE state = 'running'`).Scan(&running))
			runningAtKills += running
			proc.kill()
			kills++
			time.Sleep(time.Duration(i%3) * 300 * time.Millisecond)
			proc.start(ctx)
			lastRestart = time.Now()
		}
	}
	require.Equal(t, crashKills, kills)
	t.Logf("%d jobs were running when the %d kills came", runningAtKills, kills)

	// Every PR converges: an approval when all its jobs passed, a request
	// for changes naming the failed job otherwise, at its head SHA.
	converged := func(p opened) bool {
		all, err := gitea.Reviews(owner, repoName, p.Number)
		if err != nil {
			return false
		}
		want := "APPROVED"
		if p.fails {
			want = "REQUEST_CHANGES"
		}
		for _, r := range all {
			if r.User == botLogin && r.State == want && r.CommitID == p.HeadSHA {
				return true
			}
		}
		return false
	}
	deadline := lastRestart.Add(crashBound)
	for _, p := range pulls {
		require.Eventually(t, func() bool { return converged(p) }, time.Until(deadline)+time.Second, 200*time.Millisecond,
			"PR #%d did not converge within %s of the last restart", p.Number, crashBound)
	}
	t.Logf("all %d PRs converged %s after the last of %d kills (bound %s)", len(pulls), time.Since(lastRestart).Round(time.Second), kills, crashBound)
	cancel()
	<-openqaDone
	checkCtx, checkCancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer checkCancel()

	if viaBus {
		// Every message published is stored, and none twice: those qemgate
		// had not acknowledged when it died came again and collapsed. qemgate
		// still writes statuses, so events keep coming: wait until every one
		// published so far is stored.
		distinct := map[string]sentMessage{}
		require.Eventually(t, func() bool {
			for _, m := range bus.messages() {
				distinct[m.key+"\x00"+string(m.body)] = m
			}
			for k, m := range distinct {
				var n int
				if err := pool.QueryRow(checkCtx, `SELECT count(*) FROM deliveries WHERE source IN ('gitea-amqp', 'openqa-amqp') AND event = $1 AND body = $2`,
					m.key, m.body).Scan(&n); err != nil || n != 1 {
					return false
				}
				delete(distinct, k) // stored: not asked again
			}
			return true
		}, 30*time.Second, 200*time.Millisecond, "some published messages are not stored")
		var twice int
		require.NoError(t, pool.QueryRow(checkCtx, `SELECT count(*) FROM (SELECT event, body FROM deliveries
			WHERE source IN ('gitea-amqp', 'openqa-amqp') GROUP BY event, body HAVING count(*) > 1) d`).Scan(&twice))
		require.Zero(t, twice, "no message is stored twice")
		require.Zero(t, countSource(t, pool, "gitea")+countSource(t, pool, "openqa"), "no webhook was used")
		t.Logf("%d messages published, all stored once", len(bus.messages()))
	}

	// Every delivery qemgate acknowledged is stored (on the bus, Gitea's
	// deliveries go to the publisher, and the check above holds).
	var acked int
	for _, d := range gitea.Deliveries() {
		if viaBus || !d.Succeeded() {
			continue
		}
		acked++
		var n int
		require.NoError(t, pool.QueryRow(checkCtx, `SELECT count(*) FROM deliveries WHERE source = 'gitea' AND delivery_id = $1`, d.ID).Scan(&n))
		require.Equal(t, 1, n, "acknowledged delivery %s (%s) is stored", d.ID, d.EventType)
	}
	for _, c := range oq.HookCalls() {
		if c.Status != http.StatusAccepted {
			continue
		}
		acked++
		var n int
		require.NoError(t, pool.QueryRow(checkCtx, `SELECT count(*) FROM deliveries WHERE source = 'openqa' AND position($1::bytea IN body) > 0`,
			[]byte(fmt.Sprintf(`%d`, c.JobID))).Scan(&n))
		require.Positive(t, n, "acknowledged job-done callback of job %d is stored", c.JobID)
	}
	require.Equal(t, !viaBus, acked > 0)

	// Every stored delivery's work was dispatched: acknowledged between a
	// kill's claim and its commit or not, none is left pending, and each
	// row names the jobs it became.
	require.Eventually(t, func() bool {
		var pending int
		err := pool.QueryRow(checkCtx, `SELECT count(*) FROM delivery_work WHERE job_ids IS NULL`).Scan(&pending)
		return err == nil && pending == 0
	}, time.Minute, 200*time.Millisecond, "delivery work left pending after the last restart")
	var work, unnamed int
	require.NoError(t, pool.QueryRow(checkCtx, `SELECT count(*), count(*) FILTER (WHERE cardinality(job_ids) = 0) FROM delivery_work`).Scan(&work, &unnamed))
	require.Positive(t, work)
	require.Zero(t, unnamed, "every dispatched delivery names its jobs")

	// Nothing was posted twice.
	fg, err := forge.New(forge.Config{URL: gitea.URL(), Token: botToken})
	require.NoError(t, err)
	posts := map[string]int{}
	for _, p := range oq.ISOPosts() {
		if p.Status != http.StatusOK {
			continue
		}
		posts[p.Form.Get("BUILD")+"/"+p.Form.Get("FLAVOR")+"/"+p.Form.Get("ARCH")]++
	}
	require.Len(t, posts, 2*crashPulls, "one run per PR and arch")
	for key, n := range posts {
		require.Equal(t, 1, n, "isos posted once for %s", key)
	}
	for _, p := range pulls {
		all, err := gitea.Reviews(owner, repoName, p.Number)
		require.NoError(t, err)
		byState := map[string]int{}
		for _, r := range all {
			if r.User == botLogin {
				byState[r.State]++
			}
		}
		require.LessOrEqual(t, byState["APPROVED"], 1, "PR #%d approved once", p.Number)
		require.LessOrEqual(t, byState["REQUEST_CHANGES"], 1, "PR #%d declined once", p.Number)
		if p.fails {
			require.Zero(t, byState["APPROVED"], "PR #%d with a failed job is never approved", p.Number)
		}
		comments, err := fg.Comments(checkCtx, repo, p.Number)
		require.NoError(t, err)
		summaries := 0
		for _, c := range comments {
			if c.User == botLogin && gate.IsSummaryComment(c.Body) {
				summaries++
			}
		}
		require.LessOrEqual(t, summaries, 1, "PR #%d has one summary comment", p.Number)
	}
}

func countSource(t *testing.T, pool *pgxpool.Pool, source string) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), `SELECT count(*) FROM deliveries WHERE source = $1`, source).Scan(&n))
	return n
}
