package rabbittest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestMain(m *testing.M) { Main(m) }

// consumeOne takes one message from queue, waiting up to 30 s, and
// acknowledges it unless ack is false.
func consumeOne(t *testing.T, b *Broker, queue string, ack bool) amqp.Delivery {
	t.Helper()
	ch, err := b.Dial(t).Channel()
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := ch.Consume(queue, "", false, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-msgs:
		if ack {
			if err := d.Ack(false); err != nil {
				t.Fatal(err)
			}
		}
		return d
	case <-time.After(30 * time.Second):
		t.Fatalf("no message on %s within 30s", queue)
	}
	return amqp.Delivery{}
}

func TestPublishConsume(t *testing.T) {
	t.Parallel()
	b := New(t)
	for _, p := range []int{b.Port, b.DistPort, b.EPMDPort} {
		if p == 5672 || p == 25672 || p == 4369 {
			t.Fatalf("default port %d in use by the test node", p)
		}
	}
	if !strings.HasPrefix(b.URL, "amqp://guest:guest@127.0.0.1:"+strconv.Itoa(b.Port)) {
		t.Fatalf("URL %s", b.URL)
	}

	b.DeclareTopicExchange(t, "pubsub")
	b.BindQueue(t, "qemgate.jobs", "pubsub", "suse.openqa.job.*")
	body := []byte(`{"id":42,"result":"passed"}`)
	b.Publish(t, "pubsub", "suse.openqa.job.done", body, Header("x-test", "yes"), MessageID("m-1"))
	b.Publish(t, "pubsub", "suse.openqa.comment.create", []byte(`{}`)) // not bound: dropped
	if n := b.QueueReady(t, "qemgate.jobs"); n != 1 {
		t.Fatalf("ready = %d, want 1", n)
	}

	d := consumeOne(t, b, "qemgate.jobs", false)
	if string(d.Body) != string(body) || d.RoutingKey != "suse.openqa.job.done" ||
		d.ContentType != "application/json" || d.DeliveryMode != amqp.Persistent ||
		d.MessageId != "m-1" || d.Headers["x-test"] != "yes" {
		t.Fatalf("delivery %+v", d)
	}
	if ready, unacked := b.QueueDepth(t, "qemgate.jobs"); ready != 0 || unacked != 1 {
		t.Fatalf("depth before ack = %d ready, %d unacked; want 0, 1", ready, unacked)
	}
	if err := d.Ack(false); err != nil {
		t.Fatal(err)
	}
	// The ack is asynchronous: wait for the broker to have it. rabbitmqctl
	// takes seconds on a loaded machine, so poll only as often as needed.
	deadline := time.Now().Add(60 * time.Second)
	for {
		ready, unacked := b.QueueDepth(t, "qemgate.jobs")
		if ready == 0 && unacked == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue did not drain: %d ready, %d unacked", ready, unacked)
		}
	}

	// Mandatory turns a message no queue takes into a test failure.
	ft := &fakeTB{TB: t}
	func() {
		defer func() { _ = recover() }()
		b.Publish(ft, "pubsub", "nobody.listens", []byte(`{}`), Mandatory())
	}()
	if !strings.Contains(ft.failure, "unroutable") {
		t.Fatalf("mandatory publish without a queue: failure %q", ft.failure)
	}
}

// fakeTB records a Fatalf instead of failing the test.
type fakeTB struct {
	testing.TB
	failure string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failure = fmt.Sprintf(format, args...)
	panic("fatal") // as FailNow ends the test
}

func TestRestartKeepsPersistentMessages(t *testing.T) {
	t.Parallel()
	b := New(t)
	b.DeclareTopicExchange(t, "pubsub")
	b.BindQueue(t, "durable", "pubsub", "#")
	b.Publish(t, "pubsub", "a", []byte(`{"n":1}`))
	port := b.Port

	b.Stop(t)
	if _, err := amqp.Dial(b.URL); err == nil {
		t.Fatal("the node accepts connections after Stop")
	}
	b.Start(t)
	if b.Port != port {
		t.Fatalf("port changed from %d to %d", port, b.Port)
	}
	if n := b.QueueReady(t, "durable"); n != 1 {
		t.Fatalf("after Stop+Start ready = %d, want 1", n)
	}

	// A crash keeps what the broker confirmed too.
	b.Publish(t, "pubsub", "b", []byte(`{"n":2}`))
	b.Kill(t)
	b.Start(t)
	if n := b.QueueReady(t, "durable"); n != 2 {
		t.Fatalf("after Kill+Start ready = %d, want 2", n)
	}
	if d := consumeOne(t, b, "durable", true); string(d.Body) != `{"n":1}` {
		t.Fatalf("first message after restarts: %s", d.Body)
	}
}

func TestTwoBrokersDoNotCollide(t *testing.T) {
	t.Parallel()
	a, b := New(t), New(t)
	if a.Node == b.Node || a.Port == b.Port || a.EPMDPort == b.EPMDPort || a.DistPort == b.DistPort {
		t.Fatalf("shared identity: %+v %+v", a, b)
	}
	a.DeclareTopicExchange(t, "only-on-a")
	conn := b.Dial(t)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	err = ch.ExchangeDeclarePassive("only-on-a", amqp.ExchangeTopic, true, false, false, false, nil)
	var aerr *amqp.Error
	if !errors.As(err, &aerr) || aerr.Code != amqp.NotFound {
		t.Fatalf("exchange of node a seen on node b: %v", err)
	}
}

// ours lists the processes whose command line holds pattern.
func ours(t *testing.T, pattern string) string {
	t.Helper()
	out, err := exec.Command("pgrep", "-af", pattern).Output()
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		t.Fatalf("pgrep: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func TestCleanupLeavesNoProcess(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("pgrep"); err != nil {
		t.Skip("pgrep (procps) is not installed")
	}
	var b *Broker
	// A test that ends early (here skipped) cleans up as one that passes.
	t.Run("node", func(t *testing.T) {
		b = New(t)
		// The node's home, in its command line, holds its short name.
		short, _, _ := strings.Cut(b.Node, "@")
		if ps := ours(t, short); !strings.Contains(ps, "beam.smp") {
			t.Fatalf("no beam.smp for %s while it runs: %q", short, ps)
		}
		if ps := ours(t, "epmd -port "+strconv.Itoa(b.EPMDPort)+" "); ps == "" {
			t.Fatalf("no epmd on port %d while the node runs", b.EPMDPort)
		}
		t.SkipNow()
	})
	short, _, _ := strings.Cut(b.Node, "@")
	if ps := ours(t, short); ps != "" {
		t.Fatalf("left behind by %s:\n%s", b.Node, ps)
	}
	if ps := ours(t, "epmd -port "+strconv.Itoa(b.EPMDPort)+" "); ps != "" {
		t.Fatalf("epmd left behind:\n%s", ps)
	}
	if c, err := amqp.DialConfig(b.URL, amqp.Config{Dial: amqp.DefaultDial(time.Second)}); err == nil {
		c.Close()
		t.Fatal("the node still answers after cleanup")
	}
}

func TestShared(t *testing.T) {
	t.Parallel()
	b := Shared(t)
	if Shared(t) != b {
		t.Fatal("Shared started a second node")
	}
	b.DeclareTopicExchange(t, "shared-test")
	b.BindQueue(t, "shared-test.q", "shared-test", "#")
	b.Publish(t, "shared-test", "x.y", []byte(`{}`))
	if n := b.QueueReady(t, "shared-test.q"); n != 1 {
		t.Fatalf("ready = %d, want 1", n)
	}
}

// A test binary that dies without running its cleanups (killed, or a
// -timeout panic) takes its node and epmd with it.
func TestDeadTestBinaryLeavesNoProcess(t *testing.T) {
	t.Parallel()
	if os.Getenv("RABBITTEST_HELPER") == "1" {
		t.Skip("helper process only")
	}
	if _, err := exec.LookPath("pgrep"); err != nil {
		t.Skip("pgrep (procps) is not installed")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNodeThenBlock$", "-test.v")
	cmd.Env = append(os.Environ(), "RABBITTEST_HELPER=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	var node, epmd string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "HELPER-NODE" {
			node, epmd = f[1], f[2]
			break
		}
	}
	if node == "" {
		t.Fatal("the helper did not start a node")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	short, _, _ := strings.Cut(node, "@")
	if ps := ours(t, short); !strings.Contains(ps, "beam.smp") {
		t.Fatalf("no beam.smp for %s: %q", short, ps)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for {
		left := strings.TrimSpace(ours(t, short) + "\n" + ours(t, "epmd -port "+epmd+" "))
		if left == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left behind by a killed test binary:\n%s", left)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHelperNodeThenBlock is the test binary that the test above kills.
func TestHelperNodeThenBlock(t *testing.T) {
	if os.Getenv("RABBITTEST_HELPER") != "1" {
		t.Skip("run by TestDeadTestBinaryLeavesNoProcess")
	}
	b := New(t)
	fmt.Printf("HELPER-NODE %s %d\n", b.Node, b.EPMDPort)
	time.Sleep(5 * time.Minute)
}
