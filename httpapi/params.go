package httpapi

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/vehicle"
)

// searchParams are the parameters GET /v1/vehicles accepts.
var searchParams = []string{"source", "keyword", "make", "model", "body_style", "year_min", "year_max",
	"mileage_max_km", "price_min_usd", "price_max_usd", "fuel", "transmission", "color", "options_include",
	"accident_grade", "exterior_grade", "auction_status", "auction_date_from", "auction_date_to",
	"auction_count_min", "auction_count_max", "sort", "limit", "cursor"}

// parser collects every problem of a request, so a partner fixes them all
// in one round trip.
type parser struct {
	values url.Values
	issues []Issue
}

func (p *parser) add(path, format string, args ...any) {
	p.issues = append(p.issues, Issue{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) has(path string) bool {
	return slices.ContainsFunc(p.issues, func(i Issue) bool { return i.Path == path })
}

func (p *parser) one(k string) (string, bool) {
	v, ok := p.values[k]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// list parses a CSV parameter; an empty element is an error.
func (p *parser) list(k string) []string {
	raw, ok := p.one(k)
	if !ok {
		return nil
	}
	var out []string
	for _, part := range strings.Split(raw, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			p.add(k, "empty value in the list %q", raw)
			continue
		}
		out = append(out, part)
	}
	return out
}

// enum parses a CSV parameter whose values must be in allowed (compared
// case-insensitively, returned as allowed spells them).
func (p *parser) enum(k string, allowed []string) []string {
	var out []string
	for _, v := range p.list(k) {
		i := slices.IndexFunc(allowed, func(a string) bool { return strings.EqualFold(a, v) })
		if i < 0 {
			p.add(k, "unknown value %q; use %s", v, strings.Join(allowed, ", "))
			continue
		}
		if !slices.Contains(out, allowed[i]) {
			out = append(out, allowed[i])
		}
	}
	return out
}

// integer parses a non-negative integer up to max.
func (p *parser) integer(k string, max int) *int {
	raw, ok := p.one(k)
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		p.add(k, "not an integer: %q", raw)
		return nil
	case n < 0:
		p.add(k, "must not be negative, got %d", n)
		return nil
	case n > max:
		p.add(k, "must be at most %d, got %d", max, n)
		return nil
	}
	return &n
}

func (p *parser) date(k string) time.Time {
	raw, ok := p.one(k)
	if !ok {
		return time.Time{}
	}
	d, err := time.ParseInLocation("2006-01-02", raw, vehicle.KST)
	if err != nil {
		p.add(k, "not a date of the form YYYY-MM-DD: %q", raw)
		return time.Time{}
	}
	return d
}

func (p *parser) rangeCheck(minKey, maxKey string, min, max *int) {
	if min != nil && max != nil && *min > *max {
		p.add(minKey, "%s (%d) is greater than %s (%d)", minKey, *min, maxKey, *max)
	}
}

// queryIssues reports the pairs of a raw query string that url.ParseQuery
// drops: bad percent-encoding, or a semicolon, which older servers took for
// a separator. r.URL.Query() silently leaves them out, so "make=%ZZ" would
// be a search of every make and "make=Kia;fuel=x" one without either filter.
func queryIssues(raw string) []Issue {
	var issues []Issue
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		name, keyErr := url.QueryUnescape(key)
		if keyErr != nil {
			name = key
		}
		_, valueErr := url.QueryUnescape(value)
		switch {
		case strings.Contains(pair, ";"):
			issues = append(issues, Issue{Path: name, Message: fmt.Sprintf("a semicolon in %q: separate parameters with &, and write a semicolon in a value as %%3B", pair)})
		case keyErr != nil || valueErr != nil:
			issues = append(issues, Issue{Path: name, Message: fmt.Sprintf("malformed percent-encoding in %q", pair)})
		}
	}
	return issues
}

// parseSearch turns the query string into a Query, reporting every problem
// at once.
func parseSearch(values url.Values, fx float64) (vehicle.Query, error) {
	p := &parser{values: values}
	q := vehicle.Query{Sort: vehicle.SortAuctionDateAsc, Limit: 50, FXRate: fx}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case !slices.Contains(searchParams, k):
			p.add(k, "unknown parameter")
		case len(values[k]) > 1:
			p.add(k, "given %d times; give it once (use a comma-separated list for several values)", len(values[k]))
		}
	}

	q.Sources = parseSources(p)
	q.Keyword, _ = p.one("keyword")
	q.Keyword = strings.TrimSpace(q.Keyword)
	parseNames(p, &q)
	if bs := p.enum("body_style", []string{"van"}); len(bs) > 0 {
		q.Van = true
	}

	yearMin, yearMax := p.integer("year_min", 2100), p.integer("year_max", 2100)
	p.rangeCheck("year_min", "year_max", yearMin, yearMax)
	if yearMin != nil {
		q.YearMin = *yearMin
	}
	if yearMax != nil {
		q.YearMax = *yearMax
	}
	q.MileageMaxKm = p.integer("mileage_max_km", 10_000_000)
	q.PriceMinUSD, q.PriceMaxUSD = p.integer("price_min_usd", 100_000_000), p.integer("price_max_usd", 100_000_000)
	p.rangeCheck("price_min_usd", "price_max_usd", q.PriceMinUSD, q.PriceMaxUSD)
	q.Fuels = p.enum("fuel", vehicle.Fuels)
	q.Transmissions = p.enum("transmission", vehicle.Transmissions)
	q.Colors = p.enum("color", vehicle.Colors)
	q.Options = p.enum("options_include", vehicle.OptionTokens)
	q.AccidentGrades = p.enum("accident_grade", vehicle.Grades)
	q.ExteriorGrades = p.enum("exterior_grade", vehicle.Grades)
	q.AuctionStatuses = p.enum("auction_status", vehicle.AuctionStatuses)
	q.AuctionDateFrom, q.AuctionDateTo = p.date("auction_date_from"), p.date("auction_date_to")
	_, hasFrom := p.one("auction_date_from")
	_, hasTo := p.one("auction_date_to")
	switch {
	case hasFrom && !hasTo:
		p.add("auction_date_to", "auction_date_from requires auction_date_to")
	case hasTo && !hasFrom:
		p.add("auction_date_from", "auction_date_to requires auction_date_from")
	case !q.AuctionDateFrom.IsZero() && !q.AuctionDateTo.IsZero() && q.AuctionDateFrom.After(q.AuctionDateTo):
		p.add("auction_date_from", "auction_date_from is after auction_date_to")
	}
	q.AuctionCountMin, q.AuctionCountMax = p.integer("auction_count_min", 1000), p.integer("auction_count_max", 1000)
	p.rangeCheck("auction_count_min", "auction_count_max", q.AuctionCountMin, q.AuctionCountMax)

	if q.NeedsDealer() {
		if len(q.Makes) == 0 && len(q.Models) == 0 && !p.has("make") && !p.has("model") {
			p.add("make", "make or model is required when dealer sources are included (source is %s); use source=%s to browse the auctions without one", sourceList(q.Sources), sourceList(vehicle.AuctionSources()))
		}
		for _, o := range q.Options {
			if slices.Contains(vehicle.DealerUnanswerableOptions, o) {
				p.add("options_include", "%s cannot be answered for dealer rows; use source=%s", o, sourceList(vehicle.AuctionSources()))
			}
		}
	}

	if raw, ok := p.one("sort"); ok {
		i := slices.IndexFunc(vehicle.Sorts, func(s vehicle.Sort) bool { return strings.EqualFold(string(s), raw) })
		if i < 0 {
			p.add("sort", "unknown sort %q; use one of %s", raw, joinSorts())
		} else {
			q.Sort = vehicle.Sorts[i]
		}
	}
	if raw, ok := p.one("limit"); ok {
		n, err := strconv.Atoi(raw)
		switch {
		case err != nil:
			p.add("limit", "not an integer: %q", raw)
		case n < 1 || n > 200:
			p.add("limit", "must be between 1 and 200, got %d", n)
		default:
			q.Limit = n
		}
	}
	if len(p.issues) > 0 {
		return vehicle.Query{}, validationError(p.issues)
	}
	return q, nil
}

// sourceValues are the values source accepts, as a partner reads them:
// the auctions, dealer (every dealer source), then each dealer source.
func sourceValues() []string {
	var out []string
	for _, s := range vehicle.AuctionSources() {
		out = append(out, string(s))
	}
	out = append(out, registry.DealerAlias)
	for _, s := range vehicle.DealerSources() {
		out = append(out, string(s))
	}
	return out
}

func parseSources(p *parser) []vehicle.Source {
	all := vehicle.AllSources()
	if _, ok := p.one("source"); !ok {
		return all
	}
	use := strings.Join(sourceValues(), ", ")
	set := map[vehicle.Source]bool{}
	for _, s := range p.list("source") {
		s = strings.ToLower(s)
		switch {
		case s == registry.DealerAlias:
			for _, d := range vehicle.DealerSources() {
				set[d] = true
			}
		case slices.Contains(all, vehicle.Source(s)):
			set[vehicle.Source(s)] = true
		case slices.Contains(registry.Unserved(), s):
			p.add("source", "%q is an LMN source this service does not serve; it serves %s", s, use)
		default:
			p.add("source", "unknown source %q; use %s", s, use)
		}
	}
	var out []vehicle.Source
	for _, s := range all {
		if set[s] {
			out = append(out, s)
		}
	}
	if len(out) == 0 && !p.has("source") {
		p.add("source", "empty; use %s", use)
	}
	return out
}

// parseNames reads make and model. Both must be names the dictionary knows
// (facets lists them), and every model must belong to one of the makes.
func parseNames(p *parser, q *vehicle.Query) {
	var makes []*korean.Make
	for _, m := range p.list("make") {
		mk, ok := korean.MakeByEnglish(m)
		if !ok {
			p.add("make", "unknown make %q; see /v1/vehicles/facets", m)
			continue
		}
		if !slices.Contains(q.Makes, mk.English) {
			q.Makes = append(q.Makes, mk.English)
			makes = append(makes, mk)
		}
	}
	models := p.list("model")
	if len(models) == 0 {
		return
	}
	if _, hasMake := p.one("make"); !hasMake {
		p.add("model", "model requires make")
		return
	}
	for _, m := range models {
		found := false
		for _, mk := range makes {
			if md, ok := mk.ModelByEnglish(m); ok {
				if !slices.Contains(q.Models, md.English) {
					q.Models = append(q.Models, md.English)
				}
				found = true
				break
			}
		}
		if !found && len(makes) > 0 {
			p.add("model", "%q is not a model of %s", m, strings.Join(q.Makes, ", "))
		}
	}
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
