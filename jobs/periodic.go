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

// PeriodicJobs are the reconciliation jobs every client registers. Only the
// elected leader enqueues them; each runs on start (the schedule lives in
// the leader's memory, so a leader change would otherwise delay it) and is
// unique per period, so a new leader does not repeat a run of the period.
func PeriodicJobs(cfg *config.Config) ([]*river.PeriodicJob, error) {
	every := func(d time.Duration, args river.JobArgs, queue string) *river.PeriodicJob {
		return river.NewPeriodicJob(river.PeriodicInterval(d), func() (river.JobArgs, *river.InsertOpts) {
			return args, periodicOpts(queue, d)
		}, &river.PeriodicJobOpts{ID: args.Kind(), RunOnStart: true})
	}
	jobs := []*river.PeriodicJob{
		every(cfg.Poll.Gitea.D(), PollGiteaArgs{}, QueueGitea),
		every(cfg.Poll.OpenQA.D(), PollOpenQAArgs{}, QueueOpenQA),
		every(retentionInterval, RetentionArgs{}, QueueDefault),
	}
	switch d, interval := cfg.Aggregates.Interval(); {
	case cfg.Aggregates.Off():
	case interval:
		jobs = append(jobs, every(d, AggregateArgs{}, QueueOpenQA))
	default:
		sched, err := cfg.Aggregates.Cron()
		if err != nil {
			return nil, fmt.Errorf("aggregates.schedule %q: %w", cfg.Aggregates.Schedule, err)
		}
		jobs = append(jobs, river.NewPeriodicJob(utcSchedule{sched}, func() (river.JobArgs, *river.InsertOpts) {
			return AggregateArgs{}, periodicOpts(QueueOpenQA, cronPeriod)
		}, &river.PeriodicJobOpts{ID: AggregateArgs{}.Kind(), RunOnStart: true}))
	}
	return jobs, nil
}

// periodicOpts makes a periodic job unique per period (River's minimum is a
// second) and gives it few attempts: the next period runs it anyway.
func periodicOpts(queue string, period time.Duration) *river.InsertOpts {
	return &river.InsertOpts{
		Queue:       queue,
		MaxAttempts: 3,
		UniqueOpts:  river.UniqueOpts{ByPeriod: max(period, time.Second)},
	}
}

// utcSchedule evaluates a cron expression in UTC, whatever the host's zone,
// so "0 2 * * *" means the same on every replica.
type utcSchedule struct {
	s interface{ Next(time.Time) time.Time }
}

func (u utcSchedule) Next(t time.Time) time.Time { return u.s.Next(t.UTC()) }
