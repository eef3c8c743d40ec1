// Package kcar reads the K Car auction (케이카 경매, kcarauction.com): its
// members-only list answer (JSON), the crawler that walks every lane of
// the weekly auction, and the in-memory index that serves K Car's rows.
// What the site is known to do, and what is not known, is in
// ../shared/reference/upstreams/kcar/README.md; the unknowns are settings
// here (Paging, PageSize, Lanes, PageType).
package kcar

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/lmn/aggregator/sources"
)

// MaxPageSize is the most rows one list answer is known to hold.
const MaxPageSize = 100

// ListPath is the list endpoint.
const ListPath = "/kcar/auction/getAuctionCarList_ajax.do"

// Paging says how START_RNUM counts: three public clients send a 1-based
// page number, but the one real answer (page 1 of 100 rows) cannot tell a
// page number from a row offset.
type Paging int

const (
	// PageNumber: START_RNUM is 1, 2, 3… (what the clients send).
	PageNumber Paging = iota
	// RowOffset: START_RNUM is the first row, 1, 1+PageSize…
	RowOffset
)

// ParsePaging reads a Paging from its flag spelling, "page" or "row".
func ParsePaging(s string) (Paging, error) {
	switch s {
	case "page":
		return PageNumber, nil
	case "row":
		return RowOffset, nil
	}
	return 0, fmt.Errorf("paging %q: want page or row", s)
}

func (p Paging) String() string {
	if p == RowOffset {
		return "row"
	}
	return "page"
}

// Client calls one K Car deployment with a member session.
type Client struct {
	base    string
	session string // value of the JSESSIONID cookie; empty in the simulator
	http    *sources.Client
	// Paging and PageSize shape every list request; NewClient sets
	// PageNumber and MaxPageSize.
	Paging   Paging
	PageSize int
}

// NewClient returns a client for the site at base.
func NewClient(base, session string, hc *sources.Client) *Client {
	return &Client{base: strings.TrimRight(base, "/"), session: session, http: hc, Paging: PageNumber, PageSize: MaxPageSize}
}

// ListPage asks for one page of one lane.
type ListPage struct {
	AucType  string // "weekly"
	PageType string // "wCfm" confirmed exhibits, "wRst" results
	Lane     string // "A".."D"
	Page     int    // from 1
}

// listFields are the filter fields the site's own page sends, empty. The
// site answers a request that lacks one with a Tomcat 404, so all are sent.
var listFields = []string{"ORDER", "MNUFTR_CD", "MODEL_GRP_CD", "MODEL_CD", "OPTION_CD", "FORM_YR_ST", "FORM_YR_ED",
	"AUC_START_PRC_ST", "AUC_START_PRC_ED", "MILG_ST", "MILG_ED", "CNO", "FUEL_CD", "GBOX_DCD", "COLOR_CD",
	"CAR_TYPE", "CARMD_CD", "TO_DATE", "FROM_DATE", "CAR_STAT_CD", "AUC_SEQ", "TODAY", "IPTCAR_DCD", "AUC_PLC_CD",
	"START_DATE", "END_DATE"}

// pageSize is the rows a page is asked for: PageSize within 1..MaxPageSize.
func (c *Client) pageSize() int {
	if c.PageSize <= 0 || c.PageSize > MaxPageSize {
		return MaxPageSize
	}
	return c.PageSize
}

// form is the body of a list request for p.
func (c *Client) form(p ListPage) url.Values {
	size := c.pageSize()
	page := max(p.Page, 1)
	start := page
	if c.Paging == RowOffset {
		start = 1 + (page-1)*size
	}
	f := url.Values{
		"AUC_TYPE":   {p.AucType},
		"SRC_OPT":    {p.AucType},
		"PAGE_TYPE":  {p.PageType},
		"LANE_TYPE":  {p.Lane},
		"PAGE_CNT":   {strconv.Itoa(size)},
		"START_RNUM": {strconv.Itoa(start)},
	}
	for _, k := range listFields {
		f[k] = []string{""}
	}
	return f
}

// List fetches one page of a lane's list.
func (c *Client) List(ctx context.Context, p ListPage) (*List, error) {
	what := fmt.Sprintf("list %s lane %s page %d", p.PageType, p.Lane, max(p.Page, 1))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+ListPath, strings.NewReader(c.form(p).Encode()))
	if err != nil {
		return nil, fmt.Errorf("kcar %s: %w", what, err)
	}
	// The headers of the site's own page: its WAF refuses calls without them.
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("Accept", "application/json, text/javascript, */*; q=0.01")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	req.Header.Set("Origin", PublicBase)
	req.Header.Set("Referer", PublicBase+"/kcar/auction/weekly_auction/colAuction.do?"+url.Values{"PAGE_TYPE": {p.PageType}, "LANE_TYPE": {p.Lane}}.Encode())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Dest", "empty")
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: "JSESSIONID", Value: c.session})
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("kcar %s: %w", what, err)
	}
	defer resp.Release()
	switch {
	case resp.Status == http.StatusNotFound:
		// A missing form field, or a path the site moved: the call as
		// this client makes it no longer exists.
		return nil, fmt.Errorf("kcar %s: %w: status 404", what, sources.ErrBlocked)
	case resp.Status != http.StatusOK:
		return nil, fmt.Errorf("kcar %s: unexpected status %d", what, resp.Status)
	}
	// An expired session or the WAF answers 200 with a page, not data.
	// The body, not the Content-Type (which no saved answer shows), says
	// which: ExtractList tells the login page from any other page, and
	// neither becomes an empty auction.
	l, err := ExtractList(resp.Body, p.Lane)
	if err != nil {
		return nil, fmt.Errorf("kcar %s: %w", what, err)
	}
	if l.Echo.AucType != p.AucType || l.Echo.PageType != p.PageType {
		return nil, fmt.Errorf("kcar %s: %w", what, sources.Drift("answer echoes %s/%s", l.Echo.AucType, l.Echo.PageType))
	}
	return l, nil
}
