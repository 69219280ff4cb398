package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cost is what one operation of a phase cost on average, warm-up included.
// Go's side is this whole process: the receiver and the dispatcher, but
// also the load generator's HTTP client (the baseline's is the pgx client
// alone). PostgreSQL's is every process of the cluster.
type cost struct {
	GoCPUms float64 `json:"go_cpu_ms"`
	PGCPUms float64 `json:"pg_cpu_ms"`
	WALkB   float64 `json:"wal_kb"`
	Allocs  float64 `json:"allocs"`
	AllocKB float64 `json:"alloc_kb"`
}

type meter struct{ pool *pgxpool.Pool }

type reading struct {
	goCPU, pgCPU    time.Duration
	wal             string
	mallocs, allocB uint64
}

func (m *meter) read(ctx context.Context) reading {
	var r reading
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.goCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.mallocs, r.allocB = ms.Mallocs, ms.TotalAlloc
	var pid int
	_ = m.pool.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text, pg_backend_pid()`).Scan(&r.wal, &pid)
	r.pgCPU = clusterCPU(pid)
	return r
}

func (m *meter) start(ctx context.Context) reading { return m.read(ctx) }

func (m *meter) stop(ctx context.Context, start reading, ops int64) cost {
	end := m.read(ctx)
	if ops <= 0 {
		return cost{}
	}
	n := float64(ops)
	var wal float64
	_ = m.pool.QueryRow(ctx, `SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)`, end.wal, start.wal).Scan(&wal)
	return cost{
		GoCPUms: float64((end.goCPU - start.goCPU).Microseconds()) / 1000 / n,
		PGCPUms: float64((end.pgCPU - start.pgCPU).Microseconds()) / 1000 / n,
		WALkB:   wal / 1024 / n,
		Allocs:  float64(end.mallocs-start.mallocs) / n,
		AllocKB: float64(end.allocB-start.allocB) / 1024 / n,
	}
}

// clusterCPU sums the CPU time of the postmaster that runs backend pid and
// of all its children (backends, WAL writer, checkpointer ...), from /proc.
// Other clusters on the machine are not counted. Zero where /proc says
// nothing.
func clusterCPU(backend int) time.Duration {
	postmaster := ppid(backend)
	if postmaster <= 1 {
		return 0
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		f := statFields(p)
		if len(f) < 15 {
			continue
		}
		pid, _ := strconv.Atoi(f[0])
		parent, _ := strconv.Atoi(f[3])
		if pid != postmaster && parent != postmaster {
			continue
		}
		u, _ := strconv.ParseInt(f[13], 10, 64)
		s, _ := strconv.ParseInt(f[14], 10, 64)
		ticks += u + s
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

func ppid(pid int) int {
	f := statFields(fmt.Sprintf("/proc/%d/stat", pid))
	if len(f) < 4 {
		return 0
	}
	n, _ := strconv.Atoi(f[3])
	return n
}

// statFields splits /proc/<pid>/stat, whose second field (the command, in
// parentheses) may hold spaces.
func statFields(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return nil
	}
	return append([]string{strings.TrimSpace(s[:open]), s[open+1 : end]}, strings.Fields(s[end+1:])...)
}

// loadAvg is the machine's load average as /proc/loadavg says it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// load1 is the 1-minute load average, 0 when unknown.
func load1() float64 {
	f := strings.Fields(loadAvg())
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}
