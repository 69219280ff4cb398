package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/qemgate/qemgate/internal/demo"
)

// PrintStory prints where everything is and the curl lines that drive the
// demo PR through its life.
func (sb *sandbox) PrintStory(w io.Writer) {
	g, o, q := sb.gitea.URL(), sb.openqa.URL(), sb.base
	n := sb.pr.Number
	pr := fmt.Sprintf("%s/_fake/pulls/%s/%d", g, demo.Repo, n)
	text := `
qemgate sandbox is running. Ctrl-C stops everything.

  dashboard        {qemgate}/
  blocked view     {qemgate}/blocked
  this PR          {qemgate}/pulls/products/SLFO/{number}
  readiness        {qemgate}/readyz
  metrics          {qemgate}/metrics
  admin            curl -H 'Authorization: Bearer {admin}' {qemgate}/admin/deliveries
  River UI         {qemgate}/admin/river/  (in a browser: sign in with the admin token)
  fake Gitea       {gitea}   (API token {bottoken})
  fake openQA      {openqa}

Demo PR products/SLFO#{number} (head {sha})
is open and a review is requested from team qam-openqa. Nothing is tested
until the build service says the build is ready.

1. The build finishes: the staging bot approves with "Build successful".
   curl -X POST {pr}/reviews -d '{"user":"autogits_obs_staging_bot","state":"APPROVED","body":"Build successful"}'

2. qemgate schedules the planned runs. See the openQA jobs and the pending status:
   curl -s '{openqa}/api/v1/jobs?distri=sle&version=16.0' | jq '.jobs[] | {id, test, arch: .settings.ARCH, state, result}'
   curl -s '{gitea}/api/v1/repos/products/SLFO/commits/{sha}/status' -H 'Authorization: token {bottoken}' | jq '.state, .statuses[].description'

3. Jobs finish. Pass them all (ids from step 2) ...
   for id in 1 2 3; do curl -X POST "{openqa}/_fake/jobs/$id/finish?result=passed"; done
   ... or fail one and look at the blocked view:
   curl -X POST '{openqa}/_fake/jobs/2/finish?result=failed'
   The PR stays pending ("waiting for N jobs") until the other jobs finish
   too: the verdict is final only when every job is done. Finish them
   (passed) to see the failure status and the request for changes:
   for id in 1 3; do curl -X POST "{openqa}/_fake/jobs/$id/finish?result=passed"; done

4. Accept a failure with an openQA comment, as a reviewer would. openQA
   sends no hook for comments: the openQA poller reads it within half a
   minute, and qemgate approves.
   curl -X POST '{openqa}/_fake/jobs/2/comments?user=reviewer&text=@review:acceptable_for:submission_{number}:known_issue'

5. See what qemgate told Gitea (reviews; an approval of an old head shows
   dismissed: true after a push):
   curl -s {gitea}/api/v1/repos/products/SLFO/pulls/{number}/reviews -H 'Authorization: token {bottoken}' | jq '.[] | {user: .user.login, state, commit_id, stale, dismissed}'

6. A new commit is pushed: the old runs are superseded and nothing is
   approved until the new head is built (repeat step 1).
   curl -X POST {pr}/push -d '{"files":{"openssl-3/openssl-3.spec":"Version: 3.1.2"}}'
`
	r := strings.NewReplacer("{qemgate}", q, "{gitea}", g, "{openqa}", o, "{pr}", pr, "{number}", fmt.Sprint(n),
		"{sha}", sb.pr.HeadSHA, "{admin}", sb.adminToken, "{bottoken}", demo.BotToken)
	fmt.Fprint(w, r.Replace(text))
	if sb.broker != nil {
		fmt.Fprintf(w, `
RabbitMQ (-rabbitmq)  %s  exchange %s, prefix %s, queue %s
   No webhook calls qemgate: Gitea's events reach the broker through a
   publisher and openQA's through its AMQP plugin, as in SUSE's
   infrastructure. Step 4's comment counts within seconds (openQA publishes
   comment events), not at the poller's next pass. Stored messages:
   curl -s -H 'Authorization: Bearer %s' '%s/admin/deliveries?source=openqa-amqp' | jq '.deliveries[] | {event, outcome, reason}'
`, sb.broker.URL, demo.Exchange, demo.TopicPrefix, sb.app.Config.AMQP.Queue, sb.adminToken, q)
	}
}
