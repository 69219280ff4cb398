package gate

import (
	"slices"
	"strings"
)

// Priority constants from qem-bot (openQA runs lower numbers first).
const (
	// DefaultPullPriority is a PR's priority when no label sets one.
	DefaultPullPriority = 550
	basePriority        = 50
	priorityScale       = 20
)

// PriorityFromLabels maps a PR's labels to its priority and emergency flag.
// The highest priority of the mapped labels wins; without one it is def (or
// DefaultPullPriority when def is 0). Label names compare case-insensitively.
func PriorityFromLabels(labels []string, mapping map[string]int, emergencyLabels []string, def int) (priority int, emergency bool) {
	if def == 0 {
		def = DefaultPullPriority
	}
	found := false
	for _, l := range labels {
		for name, p := range mapping {
			if strings.EqualFold(l, name) && (!found || p > priority) {
				priority, found = p, true
			}
		}
		if slices.ContainsFunc(emergencyLabels, func(e string) bool { return strings.EqualFold(e, l) }) {
			emergency = true
		}
	}
	if !found {
		priority = def
	}
	return priority, emergency
}

// JobPriority is qem-bot's _PRIORITY for a per-PR job: override_priority when
// set; otherwise 50 + 10 (+5 for flavors ending in "Minimal"), -20 instead for
// an emergency, minus priority/20.
func JobPriority(flavor string, override *int, priority int, emergency bool) int {
	if override != nil {
		return *override
	}
	delta := 10
	if strings.HasSuffix(flavor, "Minimal") {
		delta = 5
	}
	if emergency {
		delta = -20
	}
	return basePriority + delta - floorDiv(priority, priorityScale)
}

// AggregatePriority is qem-bot's _PRIORITY for an aggregate: 50 - max/20 over
// the included PRs, set only (ok) when that maximum is above 0.
func AggregatePriority(maxPriority int) (priority int, ok bool) {
	if maxPriority <= 0 {
		return 0, false
	}
	return basePriority - floorDiv(maxPriority, priorityScale), true
}

// floorDiv divides like Python's //, which qem-bot uses.
func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Where a PR's priority and emergency flag came from.
const (
	PrioritySourceLabels = "labels"
	PrioritySourceSMELT  = "smelt"
)

// SMELTPriority is SMELT's word on an update: data.priority (nil when SMELT
// has none) and data.is_emergency.
type SMELTPriority struct {
	Priority  *int `json:"priority,omitempty"`
	Emergency bool `json:"is_emergency"`
}

// PullPriority picks a PR's priority and emergency flag: SMELT's when it
// knows the update (smelt non-nil), the labels' otherwise. An emergency label
// still counts when SMELT says otherwise: the label is a person's explicit
// call, and an emergency only moves the PR forward.
func PullPriority(labelPriority int, labelEmergency bool, smelt *SMELTPriority) (priority int, emergency bool, source string) {
	if smelt == nil {
		return labelPriority, labelEmergency, PrioritySourceLabels
	}
	priority = labelPriority
	if smelt.Priority != nil {
		priority = *smelt.Priority
	}
	return priority, smelt.Emergency || labelEmergency, PrioritySourceSMELT
}
