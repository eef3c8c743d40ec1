package glovis

import (
	"encoding/json"
	"fmt"
	"time"
)

// Export is the current index in the snapshot's form, with what the next
// crawl needs to go on from it (each car's rounds, the detail pages read),
// for replicas that do not crawl themselves; nil before the first load.
func (c *Crawler) Export() ([]byte, error) {
	ix := c.Store.Index()
	if ix == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return json.Marshal(snapshot{Version: snapshotVersion, BuiltAt: ix.BuiltAt(), Lots: ix.Lots(), History: c.history, Details: c.details})
}

// Import swaps in an index another replica's crawl built (see Export), and
// takes over its memory of rounds and detail pages, so that this replica
// crawls on from there if it becomes the crawler.
func (c *Crawler) Import(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("shared auction snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("shared auction snapshot: version %d, want %d", s.Version, snapshotVersion)
	}
	c.mu.Lock()
	c.history, c.details = s.History, s.Details
	c.mu.Unlock()
	c.Store.Swap(NewIndex(s.Lots, s.BuiltAt))
	return nil
}

// IndexBuiltAt is when the index in service was built (by this replica or
// another); zero before the first load. The fleet reads it to decide
// whether a crawl is due.
func (c *Crawler) IndexBuiltAt() time.Time {
	if ix := c.Store.Index(); ix != nil {
		return ix.BuiltAt()
	}
	return time.Time{}
}

// CrawlInterval is the time between successful crawls.
func (c *Crawler) CrawlInterval() time.Duration { return c.Interval }
