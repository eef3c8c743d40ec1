package glovis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Store holds the current auction index. Readers never block: a crawl swaps
// in a whole new index at once.
type Store struct {
	cur atomic.Pointer[Index]

	mu        sync.Mutex
	lastErr   error
	lastErrAt time.Time
	lastOKAt  time.Time
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
}

// Status reports the index's size, age and the last crawl failure.
func (s *Store) Status() Status {
	st := Status{}
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

// Crawler walks every page of the current rounds at every configured site
// and swaps the result into the store.
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

	mu      sync.Mutex
	history map[string]map[int]bool // physical car → rounds it was put up in
	details map[string]Detail       // lot (site, round, goods id) → its detail page, read once
	// Details, when set, makes each crawl read the detail page of every lot
	// it has not read yet (VIN, options, first registration, status).
	Details bool
}

// Run crawls until ctx ends: at once, then every Interval, retrying sooner
// (with backoff up to Interval) after a failure. A failed crawl keeps the
// previous index.
func (c *Crawler) Run(ctx context.Context) {
	backoff := 5 * time.Second
	for {
		wait := c.Interval
		if err := c.Refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			c.Log.Warn("auction crawl failed; keeping the previous index", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(backoff*2, c.Interval)
		} else {
			backoff = 5 * time.Second
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// Refresh runs one full crawl and swaps in its index.
func (c *Crawler) Refresh(ctx context.Context) error {
	started := time.Now()
	var rounds []Round
	err := c.guard(func() (err error) {
		rounds, err = c.Client.Rounds(ctx, c.ACC)
		return err
	})
	if err != nil {
		c.Store.fail(err, time.Now())
		return err
	}
	var lots []Lot
	for _, r := range rounds {
		for _, site := range c.Sites {
			got, err := c.crawlSite(ctx, r, site)
			if err != nil {
				c.Store.fail(err, time.Now())
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
	ix := NewIndex(lots, time.Now())
	c.Store.Swap(ix)
	c.Log.Info("auction index refreshed", "rows", len(lots), "rounds", len(rounds), "without_detail", missing,
		"took", time.Since(started).Round(time.Millisecond))
	if c.Snapshot != "" {
		if err := c.save(ix); err != nil {
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

// crawlSite reads page 1 for the pager's last page, then the rest in parallel.
func (c *Crawler) crawlSite(ctx context.Context, r Round, site string) ([]Lot, error) {
	var first *List
	err := c.guard(func() (err error) {
		first, err = c.Client.List(ctx, ListPage{Round: r, ACC: c.ACC, Site: site, Page: 1})
		return err
	})
	if err != nil {
		return nil, err
	}
	pages := make([][]Lot, first.LastPage)
	pages[0] = first.Lots
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(c.Parallel, 1))
	for p := 2; p <= first.LastPage; p++ {
		g.Go(func() error {
			return c.guard(func() error {
				l, err := c.Client.List(gctx, ListPage{Round: r, ACC: c.ACC, Site: site, Page: p})
				if err != nil {
					return err
				}
				pages[p-1] = l.Lots
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []Lot
	for _, p := range pages {
		out = append(out, p...)
	}
	if len(out) != first.Total {
		return nil, fmt.Errorf("glovis round %d site %s: crawled %d lots, the page says %d", r.Number, site, len(out), first.Total)
	}
	return out, nil
}

// count records every lot's round against its physical car (goods number,
// else plate) and sets auction.count: how many rounds the car has been in.
func (c *Crawler) count(lots []Lot) []Lot {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.history == nil {
		c.history = map[string]map[int]bool{}
	}
	key := func(l *Lot) string {
		if l.GoodsNo != "" {
			return "g:" + l.GoodsNo
		}
		if l.Vehicle.LicensePlate != "" {
			return "p:" + l.Vehicle.LicensePlate
		}
		return ""
	}
	for i := range lots {
		if k := key(&lots[i]); k != "" {
			if c.history[k] == nil {
				c.history[k] = map[int]bool{}
			}
			c.history[k][lots[i].Vehicle.Auction.Round] = true
		}
	}
	out := make([]Lot, len(lots))
	for i := range lots {
		out[i] = lots[i]
		a := *out[i].Vehicle.Auction
		if k := key(&lots[i]); k != "" {
			a.Count = len(c.history[k])
		}
		out[i].Vehicle.Auction = &a
	}
	return out
}

func detailKey(l *Lot) string { return l.RC + "/" + strconv.Itoa(l.ATN) + "/" + l.GN }

// enrich adds each lot's detail page, reading only pages not read by an
// earlier crawl: a lot's page changes little until the auction. A page that
// cannot be read leaves its lot as the list showed it (the next crawl tries
// again); it never fails the crawl. It returns how many lots lack details.
func (c *Crawler) enrich(ctx context.Context, lots []Lot) int {
	c.mu.Lock()
	if c.details == nil {
		c.details = map[string]Detail{}
	}
	known := make(map[string]Detail, len(c.details))
	for k, d := range c.details {
		known[k] = d
	}
	c.mu.Unlock()

	var todo []int
	for i := range lots {
		if _, ok := known[detailKey(&lots[i])]; !ok && lots[i].GN != "" {
			todo = append(todo, i)
		}
	}
	fetched := make([]*Detail, len(todo))
	var g errgroup.Group // not WithContext: one lot's failure must not stop the others
	g.SetLimit(max(c.Parallel, 1))
	for j, i := range todo {
		g.Go(func() error {
			_ = c.guard(func() error {
				d, err := c.Client.Detail(ctx, lots[i])
				if err == nil {
					fetched[j] = &d
				}
				return err
			})
			return nil
		})
	}
	_ = g.Wait()

	c.mu.Lock()
	defer c.mu.Unlock()
	for j, i := range todo {
		if fetched[j] != nil {
			c.details[detailKey(&lots[i])] = *fetched[j]
		}
	}
	missing := 0
	current := make(map[string]Detail, len(lots))
	for i := range lots {
		k := detailKey(&lots[i])
		d, ok := c.details[k]
		if !ok {
			missing++
			continue
		}
		current[k] = d
		lots[i].Vehicle = Enrich(lots[i].Vehicle, d)
	}
	c.details = current // forget lots no longer listed
	return missing
}

// snapshot is the on-disk form of the index.
type snapshot struct {
	Version int                     `json:"version"`
	BuiltAt time.Time               `json:"built_at"`
	Lots    []Lot                   `json:"lots"`
	History map[string]map[int]bool `json:"history"`
	Details map[string]Detail       `json:"details"`
}

const snapshotVersion = 2

// save writes the index next to its final path and renames it into place, so
// a crash mid-write never leaves a torn snapshot behind.
func (c *Crawler) save(ix *Index) error {
	c.mu.Lock()
	data, err := json.Marshal(snapshot{Version: snapshotVersion, BuiltAt: ix.BuiltAt(), Lots: ix.Lots(), History: c.history, Details: c.details})
	c.mu.Unlock()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.Snapshot), ".auction-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.Snapshot)
}

// Restore loads the snapshot, if there is one, so the service can serve
// auction rows before the first crawl finishes. A missing file is not an
// error; a corrupt one is.
func (c *Crawler) Restore() error {
	if c.Snapshot == "" {
		return nil
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
	c.mu.Lock()
	c.history, c.details = s.History, s.Details
	c.mu.Unlock()
	if c.Store.Index() == nil {
		c.Store.Swap(NewIndex(s.Lots, s.BuiltAt))
	}
	return nil
}
