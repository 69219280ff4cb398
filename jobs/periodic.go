package jobs

import (
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/qemgate/qemgate/config"
)

// retentionInterval is how often old deliveries are deleted; the retention
// period itself is days, so an hour is precise enough.
const retentionInterval = time.Hour

// cronPeriod is the uniqueness window of cron-scheduled jobs: cron cannot
// fire twice within one minute.
const cronPeriod = time.Minute

// periodicSpec is one periodic job: what, when, where, and its uniqueness window.
type periodicSpec struct {
	args     river.JobArgs
	schedule river.PeriodicSchedule
	period   time.Duration
	queue    string
}

func periodicSpecs(cfg *config.Config) ([]periodicSpec, error) {
	every := func(d time.Duration, args river.JobArgs, queue string) periodicSpec {
		return periodicSpec{args: args, schedule: river.PeriodicInterval(d), period: d, queue: queue}
	}
	specs := []periodicSpec{
		every(cfg.Poll.Gitea.D(), PollGiteaArgs{}, QueueGitea),
		every(cfg.Poll.OpenQA.D(), PollOpenQAArgs{}, QueueOpenQA),
		every(retentionInterval, RetentionArgs{}, QueueDefault),
		every(reevaluateInterval, ReevaluateArgs{}, QueueDefault),
	}
	switch d, interval := cfg.Aggregates.Interval(); {
	case cfg.Aggregates.Off():
	case interval:
		specs = append(specs, every(d, AggregateArgs{}, QueueOpenQA))
	default:
		sched, err := cfg.Aggregates.Cron()
		if err != nil {
			return nil, fmt.Errorf("aggregates.schedule %q: %w", cfg.Aggregates.Schedule, err)
		}
		specs = append(specs, periodicSpec{args: AggregateArgs{}, schedule: utcSchedule{sched}, period: cronPeriod, queue: QueueOpenQA})
	}
	return specs, nil
}

// PeriodicJobs are the reconciliation jobs every client registers. Only the
// elected leader enqueues them; each runs on start (the schedule lives in
// the leader's memory, so a leader change would otherwise delay it) and is
// unique per period, so a new leader does not repeat a run of the period.
func PeriodicJobs(cfg *config.Config) ([]*river.PeriodicJob, error) {
	specs, err := periodicSpecs(cfg)
	if err != nil {
		return nil, err
	}
	jobs := make([]*river.PeriodicJob, 0, len(specs))
	for _, s := range specs {
		jobs = append(jobs, river.NewPeriodicJob(s.schedule, func() (river.JobArgs, *river.InsertOpts) {
			return s.args, s.insertOpts()
		}, &river.PeriodicJobOpts{ID: s.args.Kind(), RunOnStart: true}))
	}
	return jobs, nil
}

// insertOpts make a periodic job unique per period (River's minimum is a
// second) and give it few attempts: the next period runs it anyway.
func (s periodicSpec) insertOpts() *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       s.queue,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByPeriod: max(s.period, time.Second)},
	}
}

// utcSchedule evaluates a cron expression in UTC, whatever the host's zone,
// so "0 2 * * *" means the same on every replica.
type utcSchedule struct {
	s interface{ Next(time.Time) time.Time }
}

func (u utcSchedule) Next(t time.Time) time.Time { return u.s.Next(t.UTC()) }
