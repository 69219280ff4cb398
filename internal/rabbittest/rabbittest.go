// Package rabbittest gives tests a real RabbitMQ node of their own, started
// from the installed rabbitmq-server (Debian: apt-get install -y
// rabbitmq-server), as internal/pgtest gives them their own PostgreSQL.
//
// A node listens only on loopback ports picked at random below the kernel's
// ephemeral range (never 5672, 25672 or 4369), has its own epmd, node name,
// Erlang cookie, data and log directories, and is killed with its whole
// process group when the test ends, so test binaries running in parallel on
// one machine never see each other's broker.
//
// New starts a node per test (8-20 s on a 2-core machine, up to a minute
// when it is loaded: use it for tests that stop or kill the broker); Shared starts
// one per test binary, stopped by Main, for packages whose tests can share a
// broker by using their own exchange and queue names.
package rabbittest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// StartTimeout bounds how long a node may take to accept AMQP connections.
// A node takes 8-20 s on a 2-core machine, was seen to take 61 s with
// stress-ng --cpu 4 beside three other nodes starting, and a restart more
// than 90 s at a load average of 17.
var StartTimeout = 3 * time.Minute

// stopTimeout bounds a graceful stop (SIGTERM) before the node is killed.
const stopTimeout = 30 * time.Second

const installHint = "install rabbitmq-server (Debian: apt-get install -y rabbitmq-server)"

// Broker is one RabbitMQ node run by the tests. Its fields are read-only.
type Broker struct {
	URL      string // amqp://guest:guest@127.0.0.1:<Port>/
	Node     string // qemgate-<random>@localhost
	Dir      string // home, data and logs of the node; its name holds the node's short name
	Port     int    // AMQP
	DistPort int    // Erlang distribution
	EPMDPort int    // the node's own epmd

	ownDir string // removed by Close (Launch's node)

	script  string
	env     []string
	outPath string // the server's stdout and stderr

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when cmd has exited
	epmd     *exec.Cmd
	epmdDone chan struct{} // closed when epmd has exited
}

// New starts a node for this test and stops it, with its epmd, when the test
// ends, however it ends.
func New(tb testing.TB) *Broker {
	tb.Helper()
	started := time.Now()
	b, err := launch(tb.TempDir())
	if b != nil {
		tb.Cleanup(b.shutdown)
	}
	if err != nil {
		tb.Fatalf("rabbittest: %v", err)
	}
	tb.Logf("rabbittest: node %s ready on %s in %s", b.Node, b.URL, time.Since(started).Round(time.Millisecond))
	return b
}

var (
	mainCalled bool
	sharedOnce sync.Once
	shared     *Broker
	sharedDir  string
	sharedErr  error
)

// Main runs the package's tests and then stops the node that Shared started,
// so a run leaves nothing behind. Call it from TestMain.
func Main(m *testing.M) { os.Exit(Run(m)) }

// Run is Main without the exit, for a TestMain that also needs another
// harness's cleanup (pgtest.Run): it runs m and stops the shared node.
func Run(m interface{ Run() int }) int {
	mainCalled = true
	code := m.Run()
	if shared != nil {
		shared.shutdown()
	}
	if sharedDir != "" {
		_ = os.RemoveAll(sharedDir)
	}
	return code
}

// Shared returns the node of this test binary, starting it on first use. The
// tests that share it must use their own exchange and queue names and must
// not Stop, Start or Kill it. The package's TestMain must call Main.
func Shared(tb testing.TB) *Broker {
	tb.Helper()
	if !mainCalled {
		tb.Fatalf("rabbittest: Shared needs `func TestMain(m *testing.M) { rabbittest.Main(m) }` in the package, which stops the node")
	}
	sharedOnce.Do(func() {
		started := time.Now()
		sharedDir, sharedErr = os.MkdirTemp("", "qemgate-rabbit-")
		if sharedErr != nil {
			return
		}
		shared, sharedErr = launch(sharedDir)
		if sharedErr == nil {
			tb.Logf("rabbittest: shared node %s ready on %s in %s", shared.Node, shared.URL, time.Since(started).Round(time.Millisecond))
		}
	})
	if sharedErr != nil {
		tb.Fatalf("rabbittest: shared node: %v", sharedErr)
	}
	return shared
}

// Stop stops the node gracefully (SIGTERM, then SIGKILL after 30 s). Its
// ports, data and epmd stay, so Start brings the same node back with its
// durable queues and persistent messages.
func (b *Broker) Stop(tb testing.TB) {
	tb.Helper()
	if err := b.stop(syscall.SIGTERM, stopTimeout); err != nil {
		tb.Fatalf("rabbittest: stop %s: %v", b.Node, err)
	}
}

// Kill kills the node at once (SIGKILL to its process group), as a crash
// would. Start brings it back; what it had confirmed survives.
func (b *Broker) Kill(tb testing.TB) {
	tb.Helper()
	if err := b.stop(syscall.SIGKILL, stopTimeout); err != nil {
		tb.Fatalf("rabbittest: kill %s: %v", b.Node, err)
	}
}

// Start starts the stopped node again on the same ports and data directory.
func (b *Broker) Start(tb testing.TB) {
	tb.Helper()
	started := time.Now()
	if err := b.start(); err != nil {
		tb.Fatalf("rabbittest: restart %s: %v", b.Node, err)
	}
	tb.Logf("rabbittest: node %s restarted in %s", b.Node, time.Since(started).Round(time.Millisecond))
}

// launch prepares a node in dir and starts its epmd and the node. Ports are
// picked at random; when another process takes one of them first, it tries
// again with new ones. A non-nil Broker must be shut down even with an error.
// Launch starts a node outside a test (the sandbox's), in a new temporary
// directory on free loopback ports. Close stops it and removes the
// directory.
func Launch() (*Broker, error) {
	dir, err := os.MkdirTemp("", "qemgate-rabbit-")
	if err != nil {
		return nil, err
	}
	b, err := launch(dir)
	if err != nil {
		if b != nil {
			b.shutdown()
		}
		_ = os.RemoveAll(dir)
		return nil, err
	}
	b.ownDir = dir
	return b, nil
}

// Close stops a node that Launch started and removes its directory.
func (b *Broker) Close() {
	b.shutdown()
	if b.ownDir != "" {
		_ = os.RemoveAll(b.ownDir)
	}
}

func launch(dir string) (*Broker, error) {
	script, err := findServer()
	if err != nil {
		return nil, err
	}
	var b *Broker
	for attempt := 1; ; attempt++ {
		if b != nil {
			b.shutdown()
		}
		b, err = prepare(dir, script)
		if err != nil {
			return nil, err
		}
		err = b.startEPMD()
		if err == nil {
			err = b.start()
		}
		if err == nil || attempt == 3 || !portTaken(err) {
			return b, err
		}
	}
}

func findServer() (string, error) {
	// Debian's /usr/sbin/rabbitmq-server is a wrapper that switches to the
	// rabbitmq user and its /var/lib/rabbitmq; the script behind it is what
	// runs a node with our environment.
	candidates := []string{"/usr/lib/rabbitmq/bin/rabbitmq-server"}
	if p, err := exec.LookPath("rabbitmq-server"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, r)
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(filepath.Dir(c), "rabbitmq-env")); err == nil {
			if _, err := exec.LookPath("erl"); err != nil {
				return "", fmt.Errorf("erl is not on PATH: %s", installHint)
			}
			return c, nil
		}
	}
	return "", errors.New("rabbitmq-server is not installed: " + installHint)
}

func prepare(parent, script string) (*Broker, error) {
	short := "qemgate-" + randomHex(6)
	dir := filepath.Join(parent, short)
	home := filepath.Join(dir, "home")
	for _, d := range []string{home, filepath.Join(dir, "mnesia"), filepath.Join(dir, "log")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	b := &Broker{
		Node:     short + "@localhost",
		Dir:      dir,
		Port:     ports[0],
		DistPort: ports[1],
		EPMDPort: ports[2],
		script:   script,
		outPath:  filepath.Join(dir, "log", "server.out"),
	}
	b.URL = fmt.Sprintf("amqp://guest:guest@127.0.0.1:%d/", b.Port)

	// Node and CLI tools authenticate with this cookie; erl insists on 0400.
	if err := os.WriteFile(filepath.Join(home, ".erlang.cookie"), []byte(randomHex(16)), 0o400); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf(`listeners.tcp.default = 127.0.0.1:%d
loopback_users = none
# A busy test machine must not trip the alarms that block publishers.
disk_free_limit.absolute = 1MB
vm_memory_high_watermark.relative = 0.8
log.console = false
log.file.level = info
`, b.Port)
	files := map[string]string{
		"rabbitmq.conf":     conf,
		"enabled_plugins":   "[].\n", // no management plugin nor any other
		"rabbitmq-env.conf": "# empty: keeps /etc/rabbitmq/rabbitmq-env.conf out\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	b.env = append(cleanEnv(),
		"HOME="+home,
		"RABBITMQ_NODENAME="+b.Node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(b.Port),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(b.DistPort),
		"ERL_EPMD_PORT="+strconv.Itoa(b.EPMDPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "rabbitmq-env.conf"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(dir, "advanced.config"), // absent
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
		"RABBITMQ_PID_FILE="+filepath.Join(dir, "rabbitmq.pid"),
		// Without it the script runs the VM in the background and waits
		// for it: the VM would then not be our child, and would outlive a
		// test binary that dies without its cleanups (Pdeathsig reaches our
		// child only). With it the script execs the VM; -noinput below keeps
		// the VM off its standard input all the same.
		"RABBITMQ_ALLOW_INPUT=1",
		// -noinput; the distribution port on loopback only, like the rest.
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-noinput -kernel inet_dist_use_interface {127,0,0,1}",
	)
	return b, nil
}

// cleanEnv is the test's environment without what would point the node at
// another node's files or ports.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "RABBITMQ_") || strings.HasPrefix(name, "ERL_") || name == "HOME" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// startEPMD runs the node's own epmd in the foreground, so that it is ours to
// kill, instead of letting the node daemonize one that would outlive it.
func (b *Broker) startEPMD() error {
	epmd, err := exec.LookPath("epmd")
	if err != nil {
		return fmt.Errorf("epmd is not on PATH: %s", installHint)
	}
	cmd := exec.Command(epmd, "-port", strconv.Itoa(b.EPMDPort), "-address", "127.0.0.1")
	cmd.Env = b.env
	cmd.Dir = b.Dir
	out, err := os.Create(filepath.Join(b.Dir, "log", "epmd.out"))
	if err != nil {
		return err
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start epmd: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	b.mu.Lock()
	b.epmd, b.epmdDone = cmd, exited
	b.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-exited:
			return fmt.Errorf("epmd on port %d exited at start (port in use?): %s", b.EPMDPort, tail(filepath.Join(b.Dir, "log", "epmd.out"), 10))
		default:
		}
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(b.EPMDPort)), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("epmd did not listen on port %d within 20s", b.EPMDPort)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// start runs the node in its own process group and waits until it accepts an
// AMQP connection.
func (b *Broker) start() error {
	b.mu.Lock()
	if b.cmd != nil {
		b.mu.Unlock()
		return errors.New("the node is running already")
	}
	out, err := os.OpenFile(b.outPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		b.mu.Unlock()
		return err
	}
	cmd := exec.Command(b.script)
	cmd.Env = b.env
	cmd.Dir = b.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = groupAttr()
	err = cmd.Start()
	out.Close()
	if err != nil {
		b.mu.Unlock()
		return fmt.Errorf("start %s: %w", b.script, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	b.cmd, b.done = cmd, done
	b.mu.Unlock()

	deadline := time.Now().Add(StartTimeout)
	cfg := amqp.Config{Dial: amqp.DefaultDial(2 * time.Second)}
	var lastErr error
	for {
		select {
		case <-done:
			b.reap()
			return fmt.Errorf("the node exited while starting (%s); its log:\n%s", cmd.ProcessState, b.logTail())
		default:
		}
		conn, err := amqp.DialConfig(b.URL, cfg)
		if err == nil {
			conn.Close()
			return nil
		}
		lastErr = err
		if time.Now().After(deadline) {
			_ = b.stop(syscall.SIGKILL, 10*time.Second)
			return fmt.Errorf("the node did not accept AMQP connections within %s (last: %v); its log:\n%s", StartTimeout, lastErr, b.logTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop signals the node (the process itself for SIGTERM, so it shuts down
// cleanly; the whole group for SIGKILL), waits for it, and then kills what
// is left of its process group.
func (b *Broker) stop(sig syscall.Signal, timeout time.Duration) error {
	b.mu.Lock()
	cmd, done := b.cmd, b.done
	b.mu.Unlock()
	if cmd == nil {
		return nil
	}
	pid := cmd.Process.Pid
	if sig == syscall.SIGKILL {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	} else {
		_ = syscall.Kill(pid, sig)
	}
	var err error
	select {
	case <-done:
	case <-time.After(timeout):
		err = fmt.Errorf("did not stop within %s after %s; killed", timeout, sig)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		<-done
	}
	b.reap()
	return err
}

// reap kills whatever is left in the node's process group (erl_child_setup,
// inet_gethost) and forgets the process.
func (b *Broker) reap() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil {
		return
	}
	waitGroupGone(b.cmd.Process.Pid)
	b.cmd, b.done = nil, nil
}

// shutdown kills the node and its epmd; it is the cleanup of New and Main.
func (b *Broker) shutdown() {
	_ = b.stop(syscall.SIGKILL, stopTimeout)
	b.mu.Lock()
	epmd, exited := b.epmd, b.epmdDone
	b.epmd, b.epmdDone = nil, nil
	b.mu.Unlock()
	if epmd != nil {
		_ = syscall.Kill(-epmd.Process.Pid, syscall.SIGKILL)
		<-exited
		waitGroupGone(epmd.Process.Pid)
	}
}

// waitGroupGone kills process group pgid and waits a little until no member
// is left.
func waitGroupGone(pgid int) {
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(-pgid, syscall.SIGKILL) == nil && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

func groupAttr() *syscall.SysProcAttr {
	// Its own process group, so the node and its helpers are killed as
	// one; and killed by the kernel should the test binary die without
	// running its cleanups (a panic, a -timeout, SIGKILL).
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func (b *Broker) logTail() string {
	return "--- " + b.outPath + "\n" + tail(b.outPath, 30) +
		"\n--- node log\n" + tail(filepath.Join(b.Dir, "log", b.Node+".log"), 40)
}

func tail(path string, lines int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	all := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func portTaken(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "eaddrinuse") || strings.Contains(s, "in use")
}

// freePorts picks n distinct ports on 127.0.0.1 that are free now, below the
// kernel's ephemeral range so that no outgoing connection takes them
// meanwhile, and away from RabbitMQ's and Erlang's defaults.
func freePorts(n int) ([]int, error) {
	lo, hi := 20000, ephemeralLow()
	var ports []int
	seen := map[int]bool{5672: true, 25672: true, 4369: true, 15672: true}
	for tries := 0; len(ports) < n; tries++ {
		if tries > 1000 {
			return nil, errors.New("no free port on 127.0.0.1")
		}
		r, err := rand.Int(rand.Reader, big.NewInt(int64(hi-lo)))
		if err != nil {
			return nil, err
		}
		p := lo + int(r.Int64())
		if seen[p] {
			continue
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		ports = append(ports, p)
	}
	return ports, nil
}

func ephemeralLow() int {
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err == nil {
		if f := strings.Fields(string(data)); len(f) == 2 {
			if lo, err := strconv.Atoi(f[0]); err == nil && lo > 22000 {
				return lo
			}
		}
	}
	return 32768
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Dial opens a connection to the node that is closed when the test ends.
func (b *Broker) Dial(tb testing.TB) *amqp.Connection {
	tb.Helper()
	conn, err := amqp.Dial(b.URL)
	if err != nil {
		tb.Fatalf("rabbittest: dial %s: %v", b.URL, err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}

// withChannel runs f on a fresh connection and channel, closed afterwards.
func (b *Broker) withChannel(tb testing.TB, what string, f func(*amqp.Channel) error) {
	tb.Helper()
	conn, err := amqp.Dial(b.URL)
	if err != nil {
		tb.Fatalf("rabbittest: %s: dial %s: %v", what, b.URL, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatalf("rabbittest: %s: channel: %v", what, err)
	}
	defer ch.Close()
	if err := f(ch); err != nil {
		tb.Fatalf("rabbittest: %s: %v", what, err)
	}
}

// DeclareTopicExchange declares a durable topic exchange, as openQA's AMQP
// plugin and the Gitea publisher use.
func (b *Broker) DeclareTopicExchange(tb testing.TB, name string) {
	tb.Helper()
	b.withChannel(tb, "declare exchange "+name, func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(name, amqp.ExchangeTopic, true, false, false, false, nil)
	})
}

// BindQueue declares a durable queue and binds it to exchange with each
// binding key (a topic pattern such as "suse.openqa.job.#").
func (b *Broker) BindQueue(tb testing.TB, queue, exchange string, keys ...string) {
	tb.Helper()
	b.withChannel(tb, "bind queue "+queue, func(ch *amqp.Channel) error {
		if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
			return err
		}
		for _, k := range keys {
			if err := ch.QueueBind(queue, k, exchange, false, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// A PublishOption changes the message that Publish sends.
type PublishOption func(*publishing)

type publishing struct {
	amqp.Publishing
	mandatory bool
}

// Header sets a header of the message.
func Header(key string, value any) PublishOption {
	return func(p *publishing) {
		if p.Headers == nil {
			p.Headers = amqp.Table{}
		}
		p.Headers[key] = value
	}
}

// ContentType replaces application/json.
func ContentType(ct string) PublishOption {
	return func(p *publishing) { p.ContentType = ct }
}

// MessageID sets the message id.
func MessageID(id string) PublishOption {
	return func(p *publishing) { p.MessageId = id }
}

// Transient sends the message non-persistent.
func Transient() PublishOption {
	return func(p *publishing) { p.DeliveryMode = amqp.Transient }
}

// Mandatory makes Publish fail the test when no queue is bound to take the
// message, instead of the broker dropping it.
func Mandatory() PublishOption {
	return func(p *publishing) { p.mandatory = true }
}

// Publish sends a persistent application/json message and returns once the
// broker has confirmed it, so it is on the broker (on disk, for a durable
// queue) when Publish returns.
func (b *Broker) Publish(tb testing.TB, exchange, routingKey string, body []byte, opts ...PublishOption) {
	tb.Helper()
	p := publishing{Publishing: amqp.Publishing{
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		Timestamp:    time.Now(),
		Body:         body,
	}}
	for _, o := range opts {
		o(&p)
	}
	b.withChannel(tb, fmt.Sprintf("publish to %q with key %q", exchange, routingKey), func(ch *amqp.Channel) error {
		if err := ch.Confirm(false); err != nil {
			return err
		}
		// Buffered: the library hands a return over before the confirm
		// that follows it, so it is here once the confirm is.
		returns := ch.NotifyReturn(make(chan amqp.Return, 1))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, exchange, routingKey, p.mandatory, false, p.Publishing)
		if err != nil {
			return err
		}
		acked, err := dc.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the confirm: %w", err)
		}
		if !acked {
			return errors.New("the broker nacked the message")
		}
		select {
		case r := <-returns:
			return fmt.Errorf("unroutable: %d %s", r.ReplyCode, r.ReplyText)
		default:
		}
		return nil
	})
}

// QueueReady is the number of messages ready for delivery in queue, which
// must exist.
func (b *Broker) QueueReady(tb testing.TB, queue string) int {
	tb.Helper()
	var n int
	b.withChannel(tb, "inspect queue "+queue, func(ch *amqp.Channel) error {
		q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		n = q.Messages
		return err
	})
	return n
}

// QueueDepth is the number of messages in queue that are ready and that are
// delivered but not yet acknowledged, from rabbitmqctl (slower than
// QueueReady: it starts an Erlang VM).
func (b *Broker) QueueDepth(tb testing.TB, queue string) (ready, unacked int) {
	tb.Helper()
	out, err := b.Ctl(tb, "list_queues", "--quiet", "--no-table-headers", "name", "messages_ready", "messages_unacknowledged")
	if err != nil {
		tb.Fatalf("rabbittest: list queues: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == queue {
			ready, err1 := strconv.Atoi(f[1])
			unacked, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil {
				break
			}
			return ready, unacked
		}
	}
	tb.Fatalf("rabbittest: queue %q not in list_queues of %s:\n%s", queue, b.Node, out)
	return 0, 0
}

// Ctl runs rabbitmqctl against the node with the node's environment and
// returns its combined output. The CLI's own distribution port is picked free
// too, so CLIs of parallel test binaries do not collide.
func (b *Broker) Ctl(tb testing.TB, args ...string) (string, error) {
	tb.Helper()
	ctl := filepath.Join(filepath.Dir(b.script), "rabbitmqctl")
	var out bytes.Buffer
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		ports, perr := freePorts(1)
		if perr != nil {
			return "", perr
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		cmd := exec.CommandContext(ctx, ctl, append([]string{"-n", b.Node}, args...)...)
		cmd.Env = append(b.env[:len(b.env):len(b.env)],
			"RABBITMQ_CTL_DIST_PORT_MIN="+strconv.Itoa(ports[0]),
			"RABBITMQ_CTL_DIST_PORT_MAX="+strconv.Itoa(ports[0]))
		cmd.Dir = b.Dir
		out.Reset()
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = groupAttr()
		err = cmd.Run()
		cancel()
		if err == nil || !portTaken(errors.New(out.String())) {
			break
		}
	}
	return out.String(), err
}
