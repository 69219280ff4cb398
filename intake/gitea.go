package intake

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/qemgate/qemgate/config"
	"github.com/qemgate/qemgate/jobs"
)

// giteaRoute says what a fine-grained Gitea event type is about.
type giteaRoute int

const (
	routePull giteaRoute = iota + 1
	routeReview
	routeComment
	routeStatus
)

// giteaRoutes is the dispatch map: X-Gitea-Event-Type → what it implies.
// Everything else is recorded and ignored.
var giteaRoutes = map[string]giteaRoute{
	"pull_request":                 routePull,
	"pull_request_sync":            routePull,
	"pull_request_label":           routePull,
	"pull_request_review_request":  routePull,
	"pull_request_review_approved": routeReview,
	"pull_request_review_rejected": routeReview,
	"pull_request_review_comment":  routeReview,
	"pull_request_comment":         routeComment,
	"status":                       routeStatus,
}

// coarseEventTypes maps the coarse X-Gitea-Event of older Gitea versions,
// which send no event type, to the type it stands for where that is unique.
var coarseEventTypes = map[string]string{
	"pull_request_approved": "pull_request_review_approved",
	"pull_request_rejected": "pull_request_review_rejected",
	"status":                "status",
}

// giteaPayload is just enough of Gitea's payloads to route them; the full
// state is always re-read from Gitea by the job. decodeGiteaPayload reads
// it; giteaSchema must name every field.
type giteaPayload struct {
	Action      string `json:"action"`
	Number      int64  `json:"number"`
	PullRequest *struct {
		Number int64 `json:"number"`
		Head   struct {
			SHA string `json:"sha"`
		} `json:"head"`
	} `json:"pull_request"`
	Issue *struct {
		Number int64 `json:"number"`
	} `json:"issue"`
	IsPull     *bool `json:"is_pull"`
	Repository *struct {
		FullName string `json:"full_name"`
	} `json:"repository"`
	Sender *struct {
		Login string `json:"login"`
	} `json:"sender"`
	Comment *struct {
		User *struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"comment"`
	SHA     string `json:"sha"`
	Context string `json:"context"`
	State   string `json:"state"`
}

// GiteaEvent is a parsed delivery: what to store and what work it implies.
type GiteaEvent struct {
	EventType string
	Action    string
	Repo      string // the configured spelling of the repository
	Number    int64
	SHA       string
	Sender    string
	Intent    jobs.Intent
	Ignored   string // why no work follows, when none does
}

// BadPayload is a delivery that is signed but unusable; its message names
// the field.
type BadPayload struct{ Msg string }

func (e *BadPayload) Error() string { return e.Msg }

var shaPattern = regexp.MustCompile(`^[0-9a-fA-F]{40}([0-9a-fA-F]{24})?$`)

// ParseGitea decides what a signed Gitea delivery means. It is pure: the
// same body and configuration always give the same answer, which is what
// makes a replay of a stored delivery do what the original did.
func ParseGitea(cfg *config.Config, eventType string, body []byte) (GiteaEvent, error) {
	ev := GiteaEvent{EventType: eventType}
	route, known := giteaRoutes[eventType]
	if !known {
		ev.Ignored = fmt.Sprintf("event type %q is not one qemgate acts on", eventType)
		if eventType == "" {
			ev.Ignored = "no X-Gitea-Event-Type header"
		}
		// Still parse what we can, so the stored row says whose event it was.
		if p, err := decodeGiteaPayload(body); err == nil {
			ev.Action = p.Action
			if p.Repository != nil {
				ev.Repo = p.Repository.FullName
			}
			if p.Sender != nil {
				ev.Sender = p.Sender.Login
			}
		}
		return ev, nil
	}
	p, err := decodeGiteaPayload(body)
	if err != nil {
		return ev, &BadPayload{"body is not valid JSON: " + err.Error()}
	}
	ev.Action = p.Action
	if p.Sender != nil {
		ev.Sender = p.Sender.Login
	}
	if p.Repository == nil || p.Repository.FullName == "" {
		return ev, &BadPayload{"missing field repository.full_name"}
	}
	ev.Repo = p.Repository.FullName
	repo, watched := cfg.Repo(p.Repository.FullName)
	if watched {
		ev.Repo = repo.Name
	}

	switch route {
	case routePull, routeReview:
		if p.PullRequest == nil {
			return ev, &BadPayload{"missing field pull_request"}
		}
		ev.Number = p.PullRequest.Number
		if ev.Number == 0 {
			ev.Number = p.Number
		}
		if ev.Number <= 0 {
			return ev, &BadPayload{"missing field pull_request.number"}
		}
		ev.SHA = strings.ToLower(p.PullRequest.Head.SHA)
		if route == routeReview && isBot(cfg, ev.Sender) {
			ev.Ignored = "our own review"
		}
	case routeComment:
		if p.Issue == nil || p.Issue.Number <= 0 {
			return ev, &BadPayload{"missing field issue.number"}
		}
		ev.Number = p.Issue.Number
		if p.PullRequest != nil {
			ev.SHA = strings.ToLower(p.PullRequest.Head.SHA)
		}
		if p.IsPull != nil && !*p.IsPull {
			ev.Ignored = "comment on an issue, not a pull request"
		}
		author := ev.Sender
		if p.Comment != nil && p.Comment.User != nil {
			author = p.Comment.User.Login
		}
		if isBot(cfg, author) {
			ev.Ignored = "our own comment"
		}
	case routeStatus:
		if p.SHA == "" {
			return ev, &BadPayload{"missing field sha"}
		}
		if !shaPattern.MatchString(p.SHA) {
			return ev, &BadPayload{fmt.Sprintf("field sha: %q is not a 40 or 64 hex commit id", p.SHA)}
		}
		if p.Context == "" {
			return ev, &BadPayload{"missing field context"}
		}
		ev.SHA = strings.ToLower(p.SHA)
		if isBot(cfg, ev.Sender) || p.Context == cfg.Gitea.StatusContext {
			ev.Ignored = "our own commit status"
		}
	}

	switch {
	case ev.Ignored != "":
	case !watched:
		ev.Ignored = fmt.Sprintf("repository %s is not watched", ev.Repo)
	case route == routeStatus:
		ev.Intent = jobs.Intent{Repo: ev.Repo, SHA: ev.SHA}
	default:
		ev.Intent = jobs.Intent{Repo: ev.Repo, Number: ev.Number}
	}
	return ev, nil
}

func isBot(cfg *config.Config, login string) bool {
	return login != "" && cfg.Gitea.BotLogin != "" && strings.EqualFold(login, cfg.Gitea.BotLogin)
}

// KnownGiteaEvent says whether qemgate acts on a fine-grained event type.
func KnownGiteaEvent(eventType string) bool {
	_, ok := giteaRoutes[eventType]
	return ok
}

// CoarseEventType is the fine-grained type an older Gitea's coarse
// X-Gitea-Event stands for, or "" when it is not unique.
func CoarseEventType(event string) string { return coarseEventTypes[event] }
