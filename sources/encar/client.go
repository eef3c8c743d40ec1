// Package encar reads Encar, the largest Korean used-car marketplace: its
// search JSON API for lists and its readside API (or public page) for details.
package encar

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/upcache"
	"github.com/lmn/aggregator/vehicle"
)

// MaxOffset is where Encar's search stops paging: past it the API keeps
// returning the same page, so a walk must end there.
const MaxOffset = 10000

// MaxCount is the largest page the search API serves.
const MaxCount = 500

// Client calls one Encar deployment.
type Client struct {
	base    string
	http    *sources.Client
	answers *upcache.Cache[*List] // nil: every Search asks Encar
}

// NewClient returns a client for the API at base (no trailing slash needed).
func NewClient(base string, hc *sources.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// Search asks for count ads from offset in the order of sort.
type Search struct {
	Makes  []string // English
	Models []string // English; each constrains the make it belongs to
	// Ranges pushed down to Encar; nil for none. Encar needs both bounds of
	// a range, so an open end is sent as a bound no car reaches.
	PriceManwon    *[2]int // 만원, inclusive
	MileageMaxKm   *int
	RegisteredFrom *int // first registration YYYYMM, inclusive
	RegisteredTo   *int // first registration YYYYMM, inclusive
	Sort           vehicle.Sort
	Offset         int
	Count          int
}

// noUpperBound is the open end of a pushed-down range.
const noUpperBound = 999999999

// CacheAnswers makes Search keep the answers it reads in answers, shared
// by every caller.
func (c *Client) CacheAnswers(answers *upcache.Cache[*List]) { c.answers = answers }

// Search runs one search call, or takes its answer from the answers kept.
// A kept answer and its rows are shared: they must not be modified.
func (c *Client) Search(ctx context.Context, s Search) (*List, error) {
	u := c.base + "/search/car/list/general?count=true&q=" + url.QueryEscape(Expression(s)) +
		"&sr=" + url.QueryEscape(fmt.Sprintf("|%s|%d|%d", SortCode(s.Sort), s.Offset, s.Count))
	if c.answers == nil {
		return c.search(ctx, u, s)
	}
	return c.answers.Get(ctx, u, func(ctx context.Context) (*List, error) { return c.search(ctx, u, s) })
}

func (c *Client) search(ctx context.Context, u string, s Search) (*List, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("encar search: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("encar search: %w", err)
	}
	defer resp.Release() // what is extracted is copied out of the body
	if resp.Status == http.StatusNotFound {
		// Encar geo-blocks by answering 404 on every list URL.
		return nil, fmt.Errorf("encar search: %w: status 404 on a list URL", sources.ErrBlocked)
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("encar search: unexpected status %d", resp.Status)
	}
	l, err := ExtractList(resp.Body, s.Offset, s.Count)
	if err != nil {
		return nil, fmt.Errorf("encar search: %w", err)
	}
	return l, nil
}

// SortCode is Encar's sort key for a sort of the public API. Dealer rows have
// no auction date, so the default sort lists the newest ads first.
func SortCode(s vehicle.Sort) string {
	switch s {
	case vehicle.SortPriceAsc:
		return "PriceAsc"
	case vehicle.SortPriceDesc:
		return "PriceDesc"
	case vehicle.SortYearDesc:
		return "Year"
	case vehicle.SortMileageAsc:
		return "MileageAsc"
	default:
		return "ModifiedDate"
	}
}

// Expression builds Encar's q expression for the given English makes and
// models. Terms are joined by "._."; "C." drills down the category tree
// CarType → Manufacturer → ModelGroup; several makes or models are an "Or"
// group. A model constrains only the make it belongs to, and a make none of
// whose models were asked for is left out when models were given (make AND
// model, as the public API documents). Names the dictionary does not know are
// left out; callers validate them before.
func Expression(s Search) string {
	makes, models := s.Makes, s.Models
	var ranges string
	if r := s.PriceManwon; r != nil {
		ranges += fmt.Sprintf("_.Price.range(%d..%d).", r[0], r[1])
	}
	if s.MileageMaxKm != nil {
		ranges += fmt.Sprintf("_.Mileage.range(0..%d).", *s.MileageMaxKm)
	}
	if s.RegisteredFrom != nil || s.RegisteredTo != nil {
		from, to := 0, noUpperBound
		if s.RegisteredFrom != nil {
			from = *s.RegisteredFrom
		}
		if s.RegisteredTo != nil {
			to = *s.RegisteredTo
		}
		ranges += fmt.Sprintf("_.Year.range(%d..%d).", from, to)
	}
	var groups []string
	for _, name := range makes {
		mk, ok := korean.MakeByEnglish(name)
		if !ok {
			continue
		}
		var mds []string
		for _, m := range models {
			if md, ok := mk.ModelByEnglish(m); ok {
				mds = append(mds, "ModelGroup."+md.Korean+".")
			}
		}
		if len(models) > 0 && len(mds) == 0 {
			continue
		}
		carType := "N"
		if mk.Domestic {
			carType = "Y"
		}
		inner := "C.Manufacturer." + mk.Korean + "."
		switch len(mds) {
		case 0:
		case 1:
			inner = "C.Manufacturer." + mk.Korean + "._." + mds[0]
		default:
			inner = "C.Manufacturer." + mk.Korean + "._.(Or." + strings.Join(mds, "_.") + ")"
		}
		groups = append(groups, "(C.CarType."+carType+"._.("+inner+"))")
	}
	switch len(groups) {
	case 0:
		return "(And.Hidden.N." + ranges + ")"
	case 1:
		return "(And.Hidden.N._." + groups[0] + ranges + ")"
	default:
		return "(And.Hidden.N._.(Or." + strings.Join(groups, "_.") + ")" + ranges + ")"
	}
}

// detailInclude is what the readside API is asked to include.
const detailInclude = "ADVERTISEMENT,CATEGORY,CONDITION,CONTACT,MANAGE,OPTIONS,PHOTOS,SPEC,PARTNERSHIP,CENTER,VIEW"

// Detail fetches one ad from the readside API. An ad that is gone (404) or
// not for sale is ErrNotFound.
func (c *Client) Detail(ctx context.Context, id string) (vehicle.Vehicle, error) {
	u := c.base + "/v1/readside/vehicle/" + url.PathEscape(id) + "?include=" + detailInclude
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return vehicle.Vehicle{}, fmt.Errorf("encar detail: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return vehicle.Vehicle{}, fmt.Errorf("encar detail: %w", err)
	}
	defer resp.Release() // what is extracted is copied out of the body
	if resp.Status == http.StatusNotFound {
		return vehicle.Vehicle{}, fmt.Errorf("encar detail: %w: status 404", sources.ErrNotFound)
	}
	if resp.Status != http.StatusOK {
		return vehicle.Vehicle{}, fmt.Errorf("encar detail: unexpected status %d", resp.Status)
	}
	v, err := ExtractDetail(resp.Body)
	if err != nil {
		return vehicle.Vehicle{}, fmt.Errorf("encar detail: %w", err)
	}
	return v, nil
}
