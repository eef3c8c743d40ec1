package auction

import (
	"context"
	"log/slog"
	"time"
)

// firstBackoff is the wait before crawling again after a failed crawl; it
// doubles with each failure in a row, up to the crawl interval.
const firstBackoff = 5 * time.Second

// RunCrawls calls refresh until ctx ends: at once, then every interval, and
// sooner after a failure (with a backoff growing to the interval). A failed
// crawl is logged and keeps the previous index; refresh says how.
func RunCrawls(ctx context.Context, refresh func(context.Context) error, interval time.Duration, log *slog.Logger) {
	backoff := firstBackoff
	for {
		wait := interval
		if err := refresh(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("auction crawl failed; keeping the previous index", "err", err, "retry_in", backoff)
			wait = backoff
			backoff = min(backoff*2, interval)
		} else {
			backoff = firstBackoff
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
