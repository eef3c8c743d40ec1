package glovis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/sync/errgroup"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/vehicle"
)

// Store holds the current auction index. Readers never block: a crawl swaps
// in a whole new index at once.
type Store struct {
	cur atomic.Pointer[Index]

	mu        sync.Mutex
	lastErr   error
	lastErrAt time.Time
	lastOKAt  time.Time

	failures         atomic.Int64 // crawls that failed, panics included
	detailErrors     atomic.Int64 // detail pages that could not be read
	snapshotFailures atomic.Int64 // snapshots not written
}

// Index returns the current index, or nil before the first load.
func (s *Store) Index() *Index { return s.cur.Load() }

// Swap installs a new index.
func (s *Store) Swap(ix *Index) {
	s.cur.Store(ix)
	s.mu.Lock()
	s.lastOKAt = ix.BuiltAt()
	s.mu.Unlock()
}

func (s *Store) fail(err error, at time.Time) {
	s.failures.Add(1)
	s.mu.Lock()
	s.lastErr, s.lastErrAt = err, at
	s.mu.Unlock()
}

// Status is what on-call sees of the index.
type Status = auction.Status

// Status reports the index's size, age and the last crawl failure.
func (s *Store) Status() Status {
	st := Status{Failures: s.failures.Load(), DetailErrors: s.detailErrors.Load(), SnapshotFailures: s.snapshotFailures.Load()}
	if ix := s.Index(); ix != nil {
		st.Loaded, st.Rows, st.BuiltAt = true, ix.Len(), ix.BuiltAt()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil && s.lastErrAt.After(s.lastOKAt) {
		st.LastError, st.LastErrAt = s.lastErr.Error(), s.lastErrAt
	}
	return st
}

// HistoryKeep is how long a car's past rounds are remembered for
// auction.count: a car back after half a year is counted afresh, and the
// history (a few dozen bytes a car) stays bounded by half a year of lots.
const HistoryKeep = 180 * 24 * time.Hour

// Crawler walks every page of the current rounds at every configured site
// and swaps the result into the store.
//
// A lot's result reaches partners within one crawl: the list's state text
// is read on every crawl, and a lot's detail page is read again when its
// list state changes and once after its auction date, so the detail never
// holds an older state than the list shows.
type Crawler struct {
	Client   *Client
	Store    *Store
	ACC      string        // "20" live auction
	Sites    []string      // rc codes
	Interval time.Duration // between successful crawls
	Snapshot string        // file the index is saved to; "" for none
	Log      *slog.Logger
	// Parallel is how many pages are fetched at once.
	Parallel int
	// Breaker, if set, guards every call to Glovis.
	Breaker interface{ Do(func() error) error }
	// Now is the clock; nil is time.Now. Tests drive it with the
	// simulator's clock.
	Now func() time.Time

	mu      sync.Mutex
	history map[string]map[int]time.Time // physical car → rounds it was put up in → auction date
	details map[string]readDetail        // lot (site, round, goods id) → its detail page

	// Tracer, when set, makes a span of each crawl, the exchanges with
	// Glovis below it.
	Tracer trace.TracerProvider

	// Details, when set, makes each crawl read the detail page of every lot
	// it has not read yet, or whose state moved on since (VIN, options,
	// first registration, status).
	Details bool
}

// readDetail is a detail page with when it was read and what the list said
// of the lot then: enough to tell whether it is still current.
type readDetail struct {
	Detail     Detail    `json:"detail"`
	ReadAt     time.Time `json:"read_at"`
	ListStatus string    `json:"list_status"`
}

func (c *Crawler) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Run crawls until ctx ends: at once, then every Interval, retrying sooner
// (with backoff up to Interval) after a failure. A failed crawl keeps the
// previous index.
func (c *Crawler) Run(ctx context.Context) {
	auction.RunCrawls(ctx, c.Refresh, c.Interval, c.Log)
}

// errPanic marks a crawl that panicked: a bug, logged with its stack,
// counted as a failed crawl, and never the end of the process.
var errPanic = errors.New("auction crawl panicked")

// contain turns a panic in fn into an error, logging the stack. Every
// goroutine of a crawl runs under it: a recover in Refresh alone would not
// catch a panic on another goroutine.
func (c *Crawler) contain(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.Log.Error("auction crawl panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return fn()
}

// Refresh runs one full crawl and swaps in its index.
func (c *Crawler) Refresh(ctx context.Context) error {
	ctx, span := c.startSpan(ctx)
	err := c.contain(func() error { return c.refresh(ctx) })
	if err != nil {
		c.Store.fail(err, time.Now())
	}
	endCrawlSpan(span, err, c.Store.Status())
	return err
}

func (c *Crawler) refresh(ctx context.Context) error {
	started := time.Now()
	var rounds []Round
	err := c.guard(func() (err error) {
		rounds, err = c.Client.Rounds(ctx, c.ACC)
		return err
	})
	if err != nil {
		return err
	}
	var lots []Lot
	for _, r := range rounds {
		for _, site := range c.Sites {
			got, err := c.crawlSite(ctx, r, site)
			if err != nil {
				return err
			}
			lots = append(lots, got...)
		}
	}
	lots = c.count(lots)
	missing := 0
	if c.Details {
		missing = c.enrich(ctx, lots)
	}
	ix := NewIndex(lots, c.now())
	c.Store.Swap(ix)
	c.Log.Info("auction index refreshed", "rows", len(lots), "rounds", len(rounds), "without_detail", missing,
		"took", time.Since(started).Round(time.Millisecond))
	if c.Snapshot != "" {
		if err := c.save(ix); err != nil {
			c.Store.snapshotFailures.Add(1)
			c.Log.Error("auction snapshot not written", "path", c.Snapshot, "err", err)
		}
	}
	return nil
}

func (c *Crawler) guard(fn func() error) error {
	if c.Breaker == nil {
		return fn()
	}
	return c.Breaker.Do(fn)
}

// crawlSite walks one round at one site. On a busy auction day lots are
// added and withdrawn while the crawl walks the pages, so a walk can miss
// or repeat a lot at a page boundary: the walk is retried once, and if the
// count still disagrees the lots found (each once) are kept and the
// disagreement logged; it never fails the crawl.
func (c *Crawler) crawlSite(ctx context.Context, r Round, site string) ([]Lot, error) {
	var lots []Lot
	var total int
	for attempt := 1; ; attempt++ {
		var err error
		lots, total, err = c.walkSite(ctx, r, site)
		if err != nil {
			return nil, err
		}
		if len(lots) == total {
			return lots, nil
		}
		if attempt == 2 {
			c.Log.Warn("auction round changed while it was crawled; keeping the lots found",
				"round", r.Number, "site", site, "lots", len(lots), "page_total", total)
			return lots, nil
		}
	}
}

// walkSite reads page 1 for the pager's last page, then the rest in
// parallel. It returns the lots, each once, and the total of page 1.
func (c *Crawler) walkSite(ctx context.Context, r Round, site string) ([]Lot, int, error) {
	var first *List
	err := c.guard(func() (err error) {
		first, err = c.Client.List(ctx, ListPage{Round: r, ACC: c.ACC, Site: site, Page: 1})
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	pages := make([][]Lot, first.LastPage)
	pages[0] = first.Lots
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.Parallel, 1))
	for p := 2; p <= first.LastPage; p++ {
		g.Go(func() error {
			return c.contain(func() error {
				return c.guard(func() error {
					l, err := c.Client.List(gctx, ListPage{Round: r, ACC: c.ACC, Site: site, Page: p})
					if errors.Is(err, errEmptyPage) {
						return nil // the round shrank under the walk: this page is past its end now
					}
					if err != nil {
						return err
					}
					pages[p-1] = l.Lots
					return nil
				})
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	var out []Lot
	seen := map[string]bool{}
	for _, p := range pages {
		for _, l := range p {
			if !seen[l.Vehicle.ID] {
				seen[l.Vehicle.ID] = true
				out = append(out, l)
			}
		}
	}
	return out, first.Total, nil
}

// carKey names the physical car of a lot: goods number, else plate.
func carKey(l *Lot) string {
	if l.GoodsNo != "" {
		return "g:" + l.GoodsNo
	}
	if l.Vehicle.LicensePlate != "" {
		return "p:" + l.Vehicle.LicensePlate
	}
	return ""
}

// count records every lot's round against its physical car and sets
// auction.count: how many rounds the car had been put up in by this lot's
// round, this one included, within HistoryKeep of the newest round crawled.
// Older rounds are forgotten.
func (c *Crawler) count(lots []Lot) []Lot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.history == nil {
		c.history = map[string]map[int]time.Time{}
	}
	for i := range lots {
		if k := carKey(&lots[i]); k != "" {
			if c.history[k] == nil {
				c.history[k] = map[int]time.Time{}
			}
			c.history[k][lots[i].Vehicle.Auction.Round] = lots[i].Vehicle.Auction.Date
		}
	}
	// Rounds older than HistoryKeep before the newest round crawled are
	// forgotten. The newest round, not the clock, is the reference: a
	// crawler whose clock disagrees with the site's (the simulator's is
	// in 2025) must not forget the rounds it has just read.
	var newest time.Time
	for i := range lots {
		if d := lots[i].Vehicle.Auction.Date; d.After(newest) {
			newest = d
		}
	}
	horizon := newest.Add(-HistoryKeep)
	for k, rounds := range c.history {
		for r, d := range rounds {
			if d.Before(horizon) {
				delete(rounds, r)
			}
		}
		if len(rounds) == 0 {
			delete(c.history, k)
		}
	}
	out := make([]Lot, len(lots))
	for i := range lots {
		out[i] = lots[i]
		a := *out[i].Vehicle.Auction
		if k := carKey(&lots[i]); k != "" {
			a.Count = 0
			for r := range c.history[k] {
				if r <= a.Round {
					a.Count++
				}
			}
			a.Count = max(a.Count, 1)
		}
		out[i].Vehicle.Auction = &a
	}
	return out
}

func detailKey(l *Lot) string { return l.RC + "/" + strconv.Itoa(l.ATN) + "/" + l.GN }

// stale reports whether a lot's detail page must be read (again): never
// read, read when the list showed another state, or read before the
// auction that has since taken place.
func stale(l *Lot, d readDetail, ok bool, now time.Time) bool {
	if !ok {
		return true
	}
	a := l.Vehicle.Auction
	if d.ListStatus != a.Status {
		return true
	}
	return !now.Before(a.Date) && d.ReadAt.Before(a.Date)
}

// status decides a lot's auction status from its list state and its
// detail page. A result on the list stands. When the list shows none, the
// detail's result counts only if the page was read after the auction and
// while the list showed what it shows now: an older page never overwrites
// a newer list.
func status(l *Lot, d readDetail, ok bool) string {
	a := l.Vehicle.Auction
	if a.Status != vehicle.AuctionUpcoming || !ok || d.Detail.Status == "" {
		return a.Status
	}
	if d.ListStatus == a.Status && !d.ReadAt.Before(a.Date) {
		return d.Detail.Status
	}
	return a.Status
}

// enrich adds each lot's detail page, reading only pages that are missing
// or stale. A page that cannot be read leaves its lot as the list showed
// it (the next crawl tries again); it is counted and logged, and never
// fails the crawl. It returns how many lots lack details.
func (c *Crawler) enrich(ctx context.Context, lots []Lot) int {
	now := c.now()
	c.mu.Lock()
	if c.details == nil {
		c.details = map[string]readDetail{}
	}
	var todo []int
	for i := range lots {
		d, ok := c.details[detailKey(&lots[i])]
		if lots[i].GN != "" && stale(&lots[i], d, ok, now) {
			todo = append(todo, i)
		}
	}
	c.mu.Unlock()
	fetched := make([]*readDetail, len(todo))
	errs := make([]error, len(todo))
	var g errgroup.Group // not WithContext: one lot's failure must not stop the others
	g.SetLimit(max(c.Parallel, 1))
	for j, i := range todo {
		g.Go(func() error {
			errs[j] = c.contain(func() error {
				return c.guard(func() error {
					d, err := c.Client.Detail(ctx, lots[i])
					if err == nil {
						fetched[j] = &readDetail{Detail: d, ReadAt: now, ListStatus: lots[i].Vehicle.Auction.Status}
					}
					return err
				})
			})
			return nil
		})
	}
	_ = g.Wait()
	failed, firstErr := 0, error(nil)
	for _, err := range errs {
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if failed > 0 {
		c.Store.detailErrors.Add(int64(failed))
		c.Log.Warn("auction detail pages not read; their lots keep the list's values", "failed", failed, "of", len(todo), "first_err", firstErr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for j, i := range todo {
		if fetched[j] != nil {
			c.details[detailKey(&lots[i])] = *fetched[j]
		}
	}
	missing := 0
	current := make(map[string]readDetail, len(lots))
	for i := range lots {
		k := detailKey(&lots[i])
		d, ok := c.details[k]
		if !ok {
			missing++
			continue
		}
		current[k] = d
		lots[i].Vehicle = Enrich(lots[i].Vehicle, d.Detail)
		a := *lots[i].Vehicle.Auction
		a.Status = status(&lots[i], d, ok)
		lots[i].Vehicle.Auction = &a
	}
	c.details = current // forget lots no longer listed
	return missing
}

// snapshot is the on-disk form of the index.
type snapshot struct {
	Version int                          `json:"version"`
	BuiltAt time.Time                    `json:"built_at"`
	Lots    []Lot                        `json:"lots"`
	History map[string]map[int]time.Time `json:"history"`
	Details map[string]readDetail        `json:"details"`
}

const snapshotVersion = 3

// save writes the index next to its final path and renames it into place, so
// a crash mid-write never leaves a torn snapshot behind.
func (c *Crawler) save(ix *Index) error {
	c.mu.Lock()
	data, err := json.Marshal(snapshot{Version: snapshotVersion, BuiltAt: ix.BuiltAt(), Lots: ix.Lots(), History: c.history, Details: c.details})
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return auction.WriteSnapshot(c.Snapshot, snapshotTemps, data)
}

// Restore loads the snapshot, if there is one, so the service can serve
// auction rows before the first crawl finishes. A missing file is not an
// error; a corrupt one is.
func (c *Crawler) Restore() error {
	if c.Snapshot == "" {
		return nil
	}
	if n, err := auction.RemoveStaleTemps(c.Snapshot, snapshotTemps, time.Now()); n > 0 || err != nil {
		c.Log.Warn("temporary auction snapshot files left by a crashed write", "removed", n, "err", err)
	}
	data, err := os.ReadFile(c.Snapshot)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("auction snapshot: %w", err)
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("auction snapshot %s: %w", c.Snapshot, err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("auction snapshot %s: version %d, want %d", c.Snapshot, s.Version, snapshotVersion)
	}
	if len(s.Lots) < MinSnapshotLots {
		return fmt.Errorf("auction snapshot %s: %d lots, fewer than %d is no plausible auction; not served", c.Snapshot, len(s.Lots), MinSnapshotLots)
	}
	c.mu.Lock()
	c.history, c.details = s.History, s.Details
	c.mu.Unlock()
	if c.Store.Index() == nil {
		c.Store.Swap(NewIndex(s.Lots, s.BuiltAt))
	}
	return nil
}
