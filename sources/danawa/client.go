// Package danawa reads Danawa Auto's used-car list, an HTML page that links
// out to the partner sites holding the ads.
package danawa

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lmn/aggregator/korean"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/upcache"
	"github.com/lmn/aggregator/vehicle"
)

// Client calls one Danawa deployment.
type Client struct {
	base    string
	http    *sources.Client
	answers *upcache.Cache[*List] // nil: every Search reads the page
}

// NewClient returns a client for the site at base.
func NewClient(base string, hc *sources.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), http: hc}
}

// Search asks for one list page.
type Search struct {
	Makes  []string // English
	Models []string // English
	Sort   vehicle.Sort
	Page   int // from 1
}

// CacheAnswers makes Search keep the pages it reads in answers, shared by
// every caller.
func (c *Client) CacheAnswers(answers *upcache.Cache[*List]) { c.answers = answers }

// Search fetches one list page, or takes it from the answers kept. A kept
// page and its rows are shared: they must not be modified.
func (c *Client) Search(ctx context.Context, s Search) (*List, error) {
	u := c.base + "/usedcar/?" + Params(s).Encode()
	if c.answers == nil {
		return c.search(ctx, u, s)
	}
	return c.answers.Get(ctx, u, func(ctx context.Context) (*List, error) { return c.search(ctx, u, s) })
}

func (c *Client) search(ctx context.Context, u string, s Search) (*List, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("danawa list: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("danawa list: %w", err)
	}
	defer resp.Release() // what is extracted is copied out of the body
	if resp.Status == http.StatusNotFound {
		return nil, fmt.Errorf("danawa list: %w: status 404 on a list URL", sources.ErrBlocked)
	}
	if resp.Status != http.StatusOK {
		return nil, fmt.Errorf("danawa list: unexpected status %d", resp.Status)
	}
	l, err := ExtractList(resp.Body, max(s.Page, 1))
	if err != nil {
		return nil, fmt.Errorf("danawa list: %w", err)
	}
	// Danawa has no detail page: a row's detail is this list row, as fetched now.
	now := time.Now()
	for i := range l.Rows {
		l.Rows[i].FetchedAt = now
	}
	return l, nil
}

// Params builds the list page's query. Brand and Series take Danawa's
// catalogue codes, comma-separated when several are selected. Series are
// only pushed down when every requested model has a code; otherwise the
// makes' whole lists are fetched and the rows filtered here.
func Params(s Search) url.Values {
	v := url.Values{}
	v.Set("Work", "list")
	v.Set("Tab", "list")
	page := max(s.Page, 1)
	v.Set("Page", strconv.Itoa(page))
	v.Set("Order", OrderCode(s.Sort))
	var brands, series []string
	pushSeries := true
	for _, name := range s.Makes {
		mk, ok := korean.MakeByEnglish(name)
		if !ok || mk.DanawaBrand == "" {
			continue
		}
		var own []*korean.Model
		for _, m := range s.Models {
			if md, ok := mk.ModelByEnglish(m); ok {
				own = append(own, md)
			}
		}
		if len(s.Models) > 0 && len(own) == 0 {
			continue // make AND model: none of this make's models was asked for
		}
		brands = append(brands, mk.DanawaBrand)
		for _, md := range own {
			if md.DanawaSeries == "" {
				pushSeries = false
			}
			series = append(series, md.DanawaSeries)
		}
	}
	if len(brands) > 0 {
		v.Set("Brand", strings.Join(brands, ","))
	}
	if len(series) > 0 && pushSeries {
		v.Set("Series", strings.Join(series, ","))
	}
	return v
}

// OrderCode is Danawa's sort code for a sort of the public API.
func OrderCode(s vehicle.Sort) string {
	switch s {
	case vehicle.SortPriceAsc:
		return "2"
	case vehicle.SortPriceDesc:
		return "3"
	case vehicle.SortMileageAsc:
		return "4"
	case vehicle.SortYearDesc:
		return "5"
	default:
		return "1" // newest ads first
	}
}
