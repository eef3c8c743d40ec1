package httpapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// rateLimitPolicy names the one policy of every key in the RateLimit
// fields: the key's own token bucket.
const rateLimitPolicy = "key"

// writeRateLimit writes a key's budget as the IETF RateLimit fields (SPEC
// §9). The current draft (draft-ietf-httpapi-ratelimit-headers) has two
// structured fields: RateLimit-Policy, the quota q (the burst) over the
// window w (the seconds an empty bucket takes to fill at the key's rate,
// rounded up, so q/w is about the rate), and RateLimit, the r requests
// remaining and t seconds until the budget is whole. The 2022 draft's three
// stay for the clients written against them.
func writeRateLimit(h http.Header, r Rate, q Quota) {
	window := 1
	if r.PerSecond > 0 {
		window = max(1, int(math.Ceil(float64(q.Limit)/r.PerSecond-1e-9)))
	}
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", rateLimitPolicy, q.Limit, window))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", rateLimitPolicy, q.Remaining, q.Reset))
	h.Set("RateLimit-Limit", strconv.Itoa(q.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(q.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(q.Reset))
}
