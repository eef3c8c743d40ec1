package auction

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"
)

// TestRunCrawlsBacksOff: a failing crawl is tried again after 5 s, then 10 s
// (doubling, at most the interval), and a good one waits the whole
// interval; the loop ends with its context.
func TestRunCrawlsBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		var at []time.Duration
		refresh := func(context.Context) error {
			at = append(at, time.Since(start))
			if len(at) <= 3 {
				return errors.New("upstream down")
			}
			if len(at) == 5 {
				cancel()
			}
			return nil
		}
		done := make(chan struct{})
		go func() {
			RunCrawls(ctx, refresh, 12*time.Second, slog.New(slog.DiscardHandler))
			close(done)
		}()
		<-done
		// Failures at 0, 5 and 15 s (waits 5, 10, then 12: the interval caps
		// 20), a success at 27 s, the next at 39 s.
		want := []time.Duration{0, 5 * time.Second, 15 * time.Second, 27 * time.Second, 39 * time.Second}
		if len(at) != len(want) {
			t.Fatalf("crawls at %v, want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Fatalf("crawls at %v, want %v", at, want)
			}
		}
	})
}
