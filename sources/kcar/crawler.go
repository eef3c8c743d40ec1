package kcar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/sources"
	"github.com/lmn/aggregator/vehicle"
)

// Store holds the current K Car index. Readers never block: a crawl swaps
// in a whole new index at once.
type Store struct {
	cur atomic.Pointer[Index]

	mu        sync.Mutex
	lastErr   error
	lastErrAt time.Time
	lastOKAt  time.Time

	failures atomic.Int64 // crawls that failed, panics included
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
type Status struct {
	Loaded    bool
	Rows      int
	BuiltAt   time.Time
	LastError string
	LastErrAt time.Time
	Failures  int64 // failed crawls since the process started
}

// Status reports the index's size, age and the last crawl failure.
func (s *Store) Status() Status {
	st := Status{Failures: s.failures.Load()}
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

// HistoryKeep is how long a car's past auctions are remembered for
// auction.count: a car back after half a year is counted afresh, and the
// history stays bounded by half a year of lots.
const HistoryKeep = 180 * 24 * time.Hour

// MaxPages bounds the pages read of one lane. A lane holds about a
// hundred cars; a walk that has not ended by then is a site that ignores
// the page it is asked for, and the crawl fails rather than loops.
const MaxPages = 50

// DefaultAucType is the auction the crawler reads: the weekly one, the
// only one whose answer has been seen.
const DefaultAucType = "weekly"

// Defaults of the settings the site does not tell (see the package doc).
var (
	DefaultLanes     = []string{"A", "B", "C", "D"}
	DefaultPageTypes = []string{"wCfm", "wRst"}
)

// Crawler walks every page of every configured lane and page type of the
// weekly auction and swaps the result into the store. The confirmed-
// exhibit page (wCfm) lists the next auction; the results page (wRst) the
// last one, with each lot's result: a lot's result reaches partners
// within one crawl after the site posts it.
type Crawler struct {
	Client    *Client
	Store     *Store
	AucType   string        // DefaultAucType when ""
	Lanes     []string      // DefaultLanes when nil
	PageTypes []string      // DefaultPageTypes when nil
	Interval  time.Duration // between successful crawls
	Snapshot  string        // file the index is saved to; "" for none
	Log       *slog.Logger
	// Parallel is how many lanes are walked at once; a lane's pages are
	// read one after the other, as the answer has no total to plan with.
	Parallel int
	// Breaker, if set, guards every call to K Car.
	Breaker interface{ Do(func() error) error }
	// Now is the clock; nil is time.Now.
	Now func() time.Time

	mu      sync.Mutex
	history map[string]map[string]time.Time // car (record or plate) → auction codes it was put up at → auction date
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
var errPanic = errors.New("kcar auction crawl panicked")

// contain turns a panic in fn into an error, logging the stack.
func (c *Crawler) contain(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.Log.Error("kcar auction crawl panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return fn()
}

// Refresh runs one full crawl and swaps in its index.
func (c *Crawler) Refresh(ctx context.Context) error {
	err := c.contain(func() error { return c.refresh(ctx) })
	if err != nil {
		c.Store.fail(err, time.Now())
	}
	return err
}

func (c *Crawler) guard(fn func() error) error {
	if c.Breaker == nil {
		return fn()
	}
	return c.Breaker.Do(fn)
}

func (c *Crawler) refresh(ctx context.Context) error {
	started := time.Now()
	aucType, lanes, pageTypes := c.AucType, c.Lanes, c.PageTypes
	if aucType == "" {
		aucType = DefaultAucType
	}
	if lanes == nil {
		lanes = DefaultLanes
	}
	if pageTypes == nil {
		pageTypes = DefaultPageTypes
	}
	type walk struct{ pageType, lane string }
	var walks []walk
	for _, pt := range pageTypes {
		for _, lane := range lanes {
			walks = append(walks, walk{pt, lane})
		}
	}
	found := make([][]Lot, len(walks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.Parallel, 1))
	for i, w := range walks {
		g.Go(func() error {
			return c.contain(func() (err error) {
				found[i], err = c.walkLane(gctx, aucType, w.pageType, w.lane)
				return err
			})
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// A lot on two pages (the results page and a confirmed list not yet
	// moved on) is kept once, with its result when one page has it.
	var lots []Lot
	at := map[string]int{}
	for _, ls := range found {
		for _, l := range ls {
			if i, ok := at[l.Vehicle.ID]; ok {
				if l.Vehicle.Auction.Status != vehicle.AuctionUpcoming {
					lots[i] = l
				}
				continue
			}
			at[l.Vehicle.ID] = len(lots)
			lots = append(lots, l)
		}
	}
	if len(lots) == 0 {
		// Well-formed and empty is a success, but a weekly auction with no
		// car on any lane is rare enough to say so.
		c.Log.Warn("kcar answered no lot on any lane", "lanes", lanes, "page_types", pageTypes)
	}
	lots = c.count(lots)
	ix := NewIndex(lots, c.now())
	c.Store.Swap(ix)
	c.Log.Info("kcar auction index refreshed", "rows", len(lots), "took", time.Since(started).Round(time.Millisecond))
	if c.Snapshot != "" {
		if err := c.save(ix); err != nil {
			c.Log.Error("kcar auction snapshot not written", "path", c.Snapshot, "err", err)
		}
	}
	return nil
}

// walkLane reads one lane's pages in turn until one holds fewer rows than
// a full page, or adds no lot the walk has not seen (a site that answers
// every page with the first). Lots come back each once.
func (c *Crawler) walkLane(ctx context.Context, aucType, pageType, lane string) ([]Lot, error) {
	var out []Lot
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > MaxPages {
			return nil, sources.Drift("kcar %s lane %s: still more rows after %d pages", pageType, lane, MaxPages)
		}
		var l *List
		err := c.guard(func() (err error) {
			l, err = c.Client.List(ctx, ListPage{AucType: aucType, PageType: pageType, Lane: lane, Page: page})
			return err
		})
		if err != nil {
			return nil, err
		}
		added := 0
		for _, lot := range l.Lots {
			if !seen[lot.Vehicle.ID] {
				seen[lot.Vehicle.ID] = true
				out = append(out, lot)
				added++
			}
		}
		// A full page is what the server says it served (it may cap what
		// was asked for), else what was asked for.
		full := l.Echo.PageSize
		if full <= 0 {
			full = c.Client.pageSize()
		}
		if len(l.Lots) < full || added == 0 {
			return out, nil
		}
	}
}

// carKeys name the physical car of a lot: its car record and its plate.
// Whether K Car keeps the car record when a car is put up again is not
// known, so either one matching counts.
func carKeys(l *Lot) []string {
	keys := []string{"c:" + l.CarID}
	if l.Vehicle.LicensePlate != "" {
		keys = append(keys, "p:"+l.Vehicle.LicensePlate)
	}
	return keys
}

// count records every lot's auction against its car and sets
// auction.count: how many auctions the car had been put up at by this
// lot's auction, this one included, within HistoryKeep of the newest
// auction crawled. Older auctions are forgotten.
func (c *Crawler) count(lots []Lot) []Lot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.history == nil {
		c.history = map[string]map[string]time.Time{}
	}
	var newest time.Time
	for i := range lots {
		d := lots[i].Vehicle.Auction.Date
		for _, k := range carKeys(&lots[i]) {
			if c.history[k] == nil {
				c.history[k] = map[string]time.Time{}
			}
			c.history[k][lots[i].AucCode] = d
		}
		if d.After(newest) {
			newest = d
		}
	}
	// The newest auction crawled, not the clock, is the reference: a
	// crawler whose clock disagrees with the site's must not forget the
	// auctions it has just read.
	horizon := newest.Add(-HistoryKeep)
	for k, auctions := range c.history {
		for code, d := range auctions {
			if d.Before(horizon) {
				delete(auctions, code)
			}
		}
		if len(auctions) == 0 {
			delete(c.history, k)
		}
	}
	out := make([]Lot, len(lots))
	for i := range lots {
		out[i] = lots[i]
		a := *out[i].Vehicle.Auction
		codes := map[string]bool{}
		for _, k := range carKeys(&lots[i]) {
			for code, d := range c.history[k] {
				if !d.After(a.Date) {
					codes[code] = true
				}
			}
		}
		a.Count = max(len(codes), 1)
		out[i].Vehicle.Auction = &a
	}
	return out
}

// snapshot is the on-disk form of the index.
type snapshot struct {
	Version int                             `json:"version"`
	BuiltAt time.Time                       `json:"built_at"`
	Lots    []Lot                           `json:"lots"`
	History map[string]map[string]time.Time `json:"history"`
}

const snapshotVersion = 1

// save writes the index next to its final path and renames it into place,
// so a crash mid-write never leaves a torn snapshot behind.
func (c *Crawler) save(ix *Index) error {
	c.mu.Lock()
	data, err := json.Marshal(snapshot{Version: snapshotVersion, BuiltAt: ix.BuiltAt(), Lots: ix.Lots(), History: c.history})
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return auction.WriteSnapshot(c.Snapshot, snapshotTemps, data)
}

// Restore loads the snapshot, if there is one, so the service can serve
// K Car rows before the first crawl finishes. A missing file is not an
// error; a corrupt or implausibly small one is.
func (c *Crawler) Restore() error {
	if c.Snapshot == "" {
		return nil
	}
	if n, err := auction.RemoveStaleTemps(c.Snapshot, snapshotTemps, time.Now()); n > 0 || err != nil {
		c.Log.Warn("temporary kcar auction snapshot files left by a crashed write", "removed", n, "err", err)
	}
	data, err := os.ReadFile(c.Snapshot)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("kcar auction snapshot: %w", err)
	}
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("kcar auction snapshot %s: %w", c.Snapshot, err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("kcar auction snapshot %s: version %d, want %d", c.Snapshot, s.Version, snapshotVersion)
	}
	if len(s.Lots) < MinSnapshotLots {
		return fmt.Errorf("kcar auction snapshot %s: %d lots, fewer than %d is no plausible auction; not served", c.Snapshot, len(s.Lots), MinSnapshotLots)
	}
	c.mu.Lock()
	c.history = s.History
	c.mu.Unlock()
	if c.Store.Index() == nil {
		c.Store.Swap(NewIndex(s.Lots, s.BuiltAt))
	}
	return nil
}
