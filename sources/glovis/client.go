// Package glovis reads the Hyundai Glovis auto auction: its members-only
// exhibit list and detail pages, the crawler that walks them, and the
// in-memory auction index that serves every auction row.
package glovis

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lmn/aggregator/sources"
)

// RowLimit is the largest page the exhibit list serves.
const RowLimit = 99

// Client calls one Glovis deployment with a member session.
type Client struct {
	base    string
	session string // value of the JSESSIONID cookie; empty in the simulator
	http    *sources.Client
}

// NewClient returns a client for the site at base.
func NewClient(base, session string, hc *sources.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), session: session, http: hc}
}

// do sends req and returns its 200 answer, whose body the caller releases
// once extracted.
func (c *Client) do(req *http.Request, what string) (*sources.Response, error) {
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: c.session})
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("glovis %s: %w", what, err)
	}
	if resp.Status != http.StatusOK {
		resp.Release()
		if resp.Status == http.StatusNotFound {
			return nil, fmt.Errorf("glovis %s: %w: status 404", what, sources.ErrBlocked)
		}
		return nil, fmt.Errorf("glovis %s: unexpected status %d", what, resp.Status)
	}
	return resp, nil
}

// Rounds reads the round selector of the exhibit-list page for acc (20 live
// auction, 30 timed).
func (c *Client) Rounds(ctx context.Context, acc string) ([]Round, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/auction/exhibitList.do?acc="+url.QueryEscape(acc), nil)
	if err != nil {
		return nil, fmt.Errorf("glovis rounds: %w", err)
	}
	resp, err := c.do(req, "rounds")
	if err != nil {
		return nil, err
	}
	defer resp.Release()
	r, err := ExtractRounds(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("glovis rounds: %w", err)
	}
	return r, nil
}

// ListPage asks for one page of a round's exhibits at one site.
type ListPage struct {
	Round Round
	ACC   string
	Site  string // rc code; "" for every site
	Page  int    // from 1
}

// List fetches one exhibit-list page.
func (c *Client) List(ctx context.Context, p ListPage) (*List, error) {
	form := url.Values{
		"atn":         {strconv.Itoa(p.Round.Number)},
		"acc":         {p.ACC},
		"rc":          {p.Site},
		"page":        {strconv.Itoa(max(p.Page, 1))},
		"rowLimit":    {strconv.Itoa(RowLimit)},
		"searchorder": {"02"}, // by lot number: stable while the crawl walks the pages
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/auction/exhibitListInclude.do", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("glovis list: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	what := fmt.Sprintf("list round %d site %s page %d", p.Round.Number, p.Site, p.Page)
	resp, err := c.do(req, what)
	if err != nil {
		return nil, err
	}
	defer resp.Release()
	l, err := ExtractList(resp.Body, p.Round.Date)
	if err != nil {
		return nil, fmt.Errorf("glovis %s: %w", what, err)
	}
	return l, nil
}

// Detail fetches a lot's exhibit detail page.
func (c *Client) Detail(ctx context.Context, lot Lot) (Detail, error) {
	q := url.Values{"acc": {lot.ACC}, "gn": {lot.GN}, "rc": {lot.RC}, "atn": {strconv.Itoa(lot.ATN)}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/auction/exhibitView.do?"+q.Encode(), nil)
	if err != nil {
		return Detail{}, fmt.Errorf("glovis detail: %w", err)
	}
	resp, err := c.do(req, "detail")
	if err != nil {
		return Detail{}, err
	}
	defer resp.Release()
	d, err := ExtractDetail(resp.Body)
	if err != nil {
		return Detail{}, fmt.Errorf("glovis detail %s: %w", lot.Vehicle.ID, err)
	}
	return d, nil
}
