package openqa

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// JobGroup is a job group or, from ParentGroups, a parent group (which has
// no ParentID). Description is markdown and often names the owning squad.
type JobGroup struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	ParentID        int64  `json:"parent_id,omitempty"`
	Description     string `json:"description,omitempty"`
	DefaultPriority int64  `json:"default_priority,omitempty"`
	SortOrder       int64  `json:"sort_order,omitempty"`
}

// UnmarshalJSON tolerates Perl's numbers-as-strings and nulls.
func (g *JobGroup) UnmarshalJSON(b []byte) error {
	var w struct {
		ID              FlexInt    `json:"id"`
		Name            flexString `json:"name"`
		ParentID        FlexInt    `json:"parent_id"`
		Description     flexString `json:"description"`
		DefaultPriority FlexInt    `json:"default_priority"`
		SortOrder       FlexInt    `json:"sort_order"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("decode job group: %w", err)
	}
	*g = JobGroup{
		ID: int64(w.ID), Name: string(w.Name), ParentID: int64(w.ParentID),
		Description: string(w.Description), DefaultPriority: int64(w.DefaultPriority), SortOrder: int64(w.SortOrder),
	}
	return nil
}

// JobGroups lists every job group.
func (c *Client) JobGroups(ctx context.Context) ([]JobGroup, error) {
	return c.groups(ctx, "job_groups", "job_groups")
}

// JobGroup reads one job group; an unknown id is a 404 (IsNotFound).
func (c *Client) JobGroup(ctx context.Context, id int64) (*JobGroup, error) {
	return c.group(ctx, "job_group", "job_groups", id)
}

// ParentGroups lists every parent group.
func (c *Client) ParentGroups(ctx context.Context) ([]JobGroup, error) {
	return c.groups(ctx, "parent_groups", "parent_groups")
}

// ParentGroup reads one parent group; an unknown id is a 404.
func (c *Client) ParentGroup(ctx context.Context, id int64) (*JobGroup, error) {
	return c.group(ctx, "parent_group", "parent_groups", id)
}

func (c *Client) groups(ctx context.Context, endpoint, path string) ([]JobGroup, error) {
	resp, err := c.get(ctx, call{method: http.MethodGet, endpoint: endpoint, path: path})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	var out []JobGroup
	if err := decode(resp, &out); err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	return out, nil
}

// group reads /<path>/<id>, which openQA answers with a one-element array.
func (c *Client) group(ctx context.Context, endpoint, path string, id int64) (*JobGroup, error) {
	resp, err := c.get(ctx, call{method: http.MethodGet, endpoint: endpoint, path: path + "/" + strconv.FormatInt(id, 10)})
	if err != nil {
		return nil, fmt.Errorf("get %s %d: %w", path, id, err)
	}
	var out []JobGroup
	if err := decode(resp, &out); err != nil {
		return nil, fmt.Errorf("get %s %d: %w", path, id, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("get %s %d: %w", path, id, &APIError{Status: http.StatusNotFound, Endpoint: resp.endpoint, Message: "empty group list"})
	}
	return &out[0], nil
}
