package kcar

import (
	"encoding/json"
	"fmt"
)

// Export is the current index in the snapshot's form, with what the next
// crawl needs to go on from it (each car's auctions, for auction.count),
// for replicas that do not crawl themselves; nil before the first load.
func (c *Crawler) Export() ([]byte, error) {
	ix := c.Store.Index()
	if ix == nil {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return json.Marshal(snapshot{Version: snapshotVersion, BuiltAt: ix.BuiltAt(), Lots: ix.Lots(), History: c.history})
}

// Import swaps in an index another replica's crawl built (see Export), and
// takes over its memory of auctions, so that this replica crawls on from
// there if it becomes the crawler.
func (c *Crawler) Import(data []byte) error {
	var s snapshot
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("shared kcar auction snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("shared kcar auction snapshot: version %d, want %d", s.Version, snapshotVersion)
	}
	c.mu.Lock()
	c.history = s.History
	c.mu.Unlock()
	c.Store.Swap(NewIndex(s.Lots, s.BuiltAt))
	return nil
}
