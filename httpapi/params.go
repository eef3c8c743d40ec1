package httpapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/vehicle"
)

// lmnSources are LMN source names that other services serve: asking this one
// for them is an error, not an empty answer.
var lmnSources = []string{"sk", "aj", "lotte", "kcar"}

// searchParams are the parameters GET /v1/vehicles accepts.
var searchParams = []string{"source", "make", "model", "sort", "limit", "cursor"}

// parseSearch turns the query string into a Query, reporting every problem
// at once.
func parseSearch(values url.Values) (vehicle.Query, error) {
	q := vehicle.Query{Sort: vehicle.SortAuctionDateAsc, Limit: 50}
	var issues []Issue
	add := func(path, format string, args ...any) {
		issues = append(issues, Issue{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case !slices.Contains(searchParams, k):
			add(k, "unknown parameter")
		case len(values[k]) > 1:
			add(k, "given %d times; give it once (use a comma-separated list for several values)", len(values[k]))
		}
	}
	one := func(k string) (string, bool) {
		v, ok := values[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}

	q.Sources = []vehicle.Source{vehicle.Glovis, vehicle.Encar, vehicle.Danawa}
	if raw, ok := one("source"); ok {
		set := map[vehicle.Source]bool{}
		for _, s := range csv(raw) {
			switch {
			case s == "dealer":
				set[vehicle.Encar], set[vehicle.Danawa] = true, true
			case s == "glovis" || s == "encar" || s == "danawa":
				set[vehicle.Source(s)] = true
			case slices.Contains(lmnSources, s):
				add("source", "%q is an LMN source this service does not serve; it serves glovis, dealer, encar, danawa", s)
			default:
				add("source", "unknown source %q; use glovis, dealer, encar or danawa", s)
			}
		}
		q.Sources = q.Sources[:0]
		for _, s := range []vehicle.Source{vehicle.Glovis, vehicle.Encar, vehicle.Danawa} {
			if set[s] {
				q.Sources = append(q.Sources, s)
			}
		}
		if len(set) == 0 && len(issues) == 0 {
			add("source", "empty; use glovis, dealer, encar or danawa")
		}
	}

	var makes []*korean.Make
	if raw, ok := one("make"); ok {
		for _, m := range csv(raw) {
			mk, ok := korean.MakeByEnglish(m)
			if !ok {
				add("make", "unknown make %q; see /v1/vehicles/facets", m)
				continue
			}
			q.Makes = append(q.Makes, mk.English)
			makes = append(makes, mk)
		}
		if len(csv(raw)) == 0 {
			add("make", "empty")
		}
	}
	if raw, ok := one("model"); ok {
		if _, hasMake := one("make"); !hasMake {
			add("model", "model requires make")
		} else {
			for _, m := range csv(raw) {
				found := false
				for _, mk := range makes {
					if md, ok := mk.ModelByEnglish(m); ok {
						q.Models = append(q.Models, md.English)
						found = true
						break
					}
				}
				if !found && len(makes) > 0 {
					add("model", "%q is not a model of %s", m, strings.Join(q.Makes, ", "))
				}
			}
		}
	}
	if q.NeedsDealer() && len(q.Makes) == 0 && len(q.Models) == 0 && !hasIssue(issues, "make") {
		add("make", "make or model is required when dealer sources are included (source is %s)", sourceList(q.Sources))
	}

	if raw, ok := one("sort"); ok {
		if !slices.Contains(vehicle.Sorts, vehicle.Sort(raw)) {
			add("sort", "unknown sort %q; use one of %s", raw, joinSorts())
		} else {
			q.Sort = vehicle.Sort(raw)
		}
	}
	if raw, ok := one("limit"); ok {
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil:
			add("limit", "not an integer: %q", raw)
		case n < 1 || n > 200:
			add("limit", "must be between 1 and 200, got %d", n)
		default:
			q.Limit = n
		}
	}
	if len(issues) > 0 {
		return vehicle.Query{}, validationError(issues)
	}
	return q, nil
}

func csv(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func hasIssue(issues []Issue, path string) bool {
	return slices.ContainsFunc(issues, func(i Issue) bool { return i.Path == path })
}

func sourceList(s []vehicle.Source) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = string(x)
	}
	return strings.Join(parts, ",")
}

func joinSorts() string {
	parts := make([]string, len(vehicle.Sorts))
	for i, s := range vehicle.Sorts {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
