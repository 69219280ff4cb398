package openqafake

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ISOPost records one POST /api/v1/isos as received.
type ISOPost struct {
	// Form is the request's parameters with their original key spelling.
	Form url.Values
	// Key is the X-API-Key header ("" if none).
	Key string
	// Status is the HTTP status the fake answered.
	Status int
	// ScheduledProductID and JobIDs are what was created.
	ScheduledProductID int64
	JobIDs             []int64
}

// switches are consumed by scheduling and never stored on jobs.
var switches = []string{
	"_GROUP", "_GROUP_ID", "_PRIORITY", "_OBSOLETE", "_ONLY_OBSOLETE_SAME_BUILD",
	"_DEPRIORITIZEBUILD", "_DEPRIORITIZE_LIMIT", "_FORCE_OBSOLETE", "_FORCE_DEPRIORITIZEBUILD",
	"_SKIP_CHAINED_DEPS", "_INCLUDE_CHILDREN", "_FAIL_IF_NO_JOBS", "_NOOBSOLETEBUILD",
}

// isoResult is what scheduling decided, rendered by handlePostISOs.
type isoResult struct {
	status int
	body   map[string]any
	ids    []int64
}

func (s *Server) handlePostISOs(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	post := ISOPost{Form: cloneValues(r.Form), Key: r.Header.Get("X-API-Key")}
	record := func(status int, spid int64, ids []int64) {
		post.Status, post.ScheduledProductID, post.JobIDs = status, spid, ids
		s.mu.Lock()
		s.isoPosts = append(s.isoPosts, post)
		s.mu.Unlock()
	}
	if _, ok := s.requireAuth(w, r, LevelOperator); !ok {
		record(http.StatusForbidden, 0, nil)
		return
	}
	var missing []string
	for _, k := range []string{"DISTRI", "VERSION", "FLAVOR", "ARCH"} {
		if r.Form.Get(k) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		writeText(w, http.StatusBadRequest, "Error: missing parameters: "+strings.Join(missing, " "))
		record(http.StatusBadRequest, 0, nil)
		return
	}
	// Iso.pm: keys are upper-cased (except two) and a literal %2F becomes /.
	args := map[string]string{}
	for k, vs := range r.Form {
		if k != "async" && k != "scheduled_product_clone_id" {
			k = strings.ToUpper(k)
		}
		args[k] = strings.ReplaceAll(vs[len(vs)-1], "%2F", "/")
	}
	async := args["async"] == "1" || strings.EqualFold(args["async"], "true")
	delete(args, "async")

	s.mu.Lock()
	spid := s.nextProduct
	s.nextProduct++
	res := s.schedule(args)
	if async && res.status == http.StatusOK {
		gru := s.nextGru
		s.nextGru++
		res.body = map[string]any{"scheduled_product_id": spid, "gru_task_id": gru, "minion_job_id": gru}
	}
	for _, id := range res.ids {
		s.jobs[id].ScheduledProductID = spid
	}
	s.mu.Unlock()

	res.body["scheduled_product_id"] = s.num(spid)
	writeJSON(w, r, res.status, res.body)
	record(res.status, spid, res.ids)
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

func schedError(status int, msg string) isoResult {
	return isoResult{status: status, body: map[string]any{"error": msg, "count": 0, "ids": []int64{}, "failed": map[string]any{}}}
}

// schedule is ScheduledProducts.pm::_schedule_iso over the fake's templates;
// callers hold s.mu.
func (s *Server) schedule(args map[string]string) isoResult {
	deprioritize := args["_DEPRIORITIZEBUILD"] == "1"
	obsolete := args["_OBSOLETE"] == "1"
	onlySame := args["_ONLY_OBSOLETE_SAME_BUILD"] == "1"
	force := args["_FORCE_OBSOLETE"] != "" || args["_FORCE_DEPRIORITIZEBUILD"] != ""
	if (deprioritize || obsolete) && args["TEST"] != "" && !force {
		return schedError(http.StatusOK, "One must not specify TEST and _DEPRIORITIZEBUILD=1/_OBSOLETE=1 at the same time as it is"+
			" likely not intended to deprioritize the whole build when scheduling a single scenario.")
	}
	limit := int64(100)
	if v, err := strconv.ParseInt(args["_DEPRIORITIZE_LIMIT"], 10, 64); err == nil {
		limit = v
	}
	groupID, hasGroup := int64(0), false
	if v := args["_GROUP_ID"]; v != "" {
		groupID, _ = strconv.ParseInt(v, 10, 64)
		hasGroup = true
	} else if name := args["_GROUP"]; name != "" {
		for _, g := range s.groups {
			if g.Name == name {
				groupID, hasGroup = g.ID, true
			}
		}
		if !hasGroup {
			// openQA returns early here: an unknown group name yields 0 jobs.
			return isoResult{status: http.StatusOK, body: map[string]any{"count": 0, "ids": []int64{}, "failed": []any{}}}
		}
	}
	var prio *int64
	if v, err := strconv.ParseInt(args["_PRIORITY"], 10, 64); err == nil {
		prio = &v
	}
	for k := range args {
		if slices.Contains(switches, k) || strings.HasPrefix(k, "__") {
			delete(args, k)
		}
	}

	distri := strings.ToLower(args["DISTRI"])
	product := func(version string) (found bool, templates []Template) {
		for _, p := range s.products {
			if strings.ToLower(p.Distri) == distri && p.Version == version && p.Flavor == args["FLAVOR"] && p.Arch == args["ARCH"] {
				found = true
			}
		}
		for _, t := range s.templates {
			if strings.ToLower(t.Distri) == distri && t.Version == version && t.Flavor == args["FLAVOR"] && t.Arch == args["ARCH"] {
				found = true
				if !hasGroup || t.GroupID == groupID {
					templates = append(templates, t)
				}
			}
		}
		return found, templates
	}
	found, templates := product(args["VERSION"])
	if !found {
		found, templates = product("*")
	}
	dfa := args["DISTRI"] + "-" + args["FLAVOR"] + "-" + args["ARCH"]
	if !found {
		return schedError(http.StatusOK, "no products found for "+dfa)
	}
	if len(templates) == 0 {
		return schedError(http.StatusNotFound, "no templates found for "+dfa)
	}

	var tests []string
	for _, t := range strings.Split(args["TEST"], ",") {
		if t = strings.TrimSpace(t); t != "" {
			tests = append(tests, t)
		}
	}
	var settings []map[string]string
	var prios []int64
	var groups []int64
	for _, t := range templates {
		machine := t.Machine
		if machine == "" {
			machine = "64bit"
		}
		if args["MACHINE"] != "" && args["MACHINE"] != machine {
			continue
		}
		if len(tests) > 0 && !slices.Contains(tests, t.Test) {
			continue
		}
		st := maps.Clone(t.Settings)
		if st == nil {
			st = map[string]string{}
		}
		for k, v := range args {
			if k != "TEST" && k != "MACHINE" {
				st[k] = v
			}
		}
		st["DISTRI"] = strings.ToLower(st["DISTRI"])
		st["TEST"], st["MACHINE"] = t.Test, machine
		if st["WORKER_CLASS"] == "" {
			st["WORKER_CLASS"] = "qemu_" + st["ARCH"]
		}
		st["NAME"] = "" // filled in once the id is known
		settings = append(settings, st)
		p := t.Priority
		if p == 0 {
			p = 50
		}
		if prio != nil {
			p = *prio
		}
		prios = append(prios, p)
		groups = append(groups, t.GroupID)
	}

	if (obsolete || deprioritize) && len(settings) > 0 && settings[0]["BUILD"] != "" {
		cond := []string{"DISTRI", "VERSION", "FLAVOR", "ARCH"}
		if onlySame {
			cond = append(cond, "BUILD")
		}
		s.obsoleteMatching(settings[0], cond, deprioritize, limit)
	}

	ids := make([]int64, 0, len(settings))
	for i, st := range settings {
		j := s.createJob(st, groups[i], prios[i])
		ids = append(ids, j.ID)
	}
	return isoResult{status: http.StatusOK, ids: ids, body: map[string]any{"count": len(ids), "ids": s.nums(ids), "failed": []any{}}}
}

func (s *Server) nums(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = s.num(id)
	}
	return out
}

// obsoleteMatching is Jobs.pm::cancel_by_settings with newbuild: pending jobs
// with the same cond settings are obsoleted, or with deprioritize pushed back
// by 10 until their priority would pass limit. Jobs with comments are spared.
func (s *Server) obsoleteMatching(ref map[string]string, cond []string, deprioritize bool, limit int64) {
	for _, j := range s.jobs {
		if !j.pending() || len(s.comments[j.ID]) > 0 {
			continue
		}
		same := true
		for _, k := range cond {
			if j.Settings[k] != ref[k] {
				same = false
				break
			}
		}
		if !same {
			continue
		}
		if deprioritize && j.Priority+10 <= limit {
			j.Priority += 10
			continue
		}
		s.cancel(j, "obsoleted")
	}
}

// createJob stores a new scheduled job; callers hold s.mu.
func (s *Server) createJob(settings map[string]string, groupID, priority int64) *job {
	id := s.nextJob
	s.nextJob++
	st := maps.Clone(settings)
	j := &job{Job{ID: id, State: "scheduled", Result: "none", Priority: priority, GroupID: groupID, Settings: st}}
	j.Name = jobName(st)
	st["NAME"] = fmt.Sprintf("%08d-%s", id, j.Name)
	s.jobs[id] = j
	return j
}
