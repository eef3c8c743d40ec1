package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/lmn/aggregator/auction"
	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/buildinfo"
	"github.com/lmn/aggregator/vehicle"
)

func handleHealthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz is ready once every auction index has loaded (from a crawl
// or the snapshot) or failed its first load: an auction that cannot load is
// left out of answers and named in them, not a reason to keep the other
// sources from partners. Dealer breakers never make it fail: a dealer
// outage is served as partial answers, not by taking instances out of
// rotation.
func handleReadyz(d AdminDeps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, code := "ok", http.StatusOK
		statuses := make([]auction.Status, len(d.Auctions))
		for i, a := range d.Auctions {
			statuses[i] = a.Status()
			if st := statuses[i]; !st.Loaded && st.Failures == 0 {
				status, code = "not ready", http.StatusServiceUnavailable
			}
		}
		if d.Draining != nil && d.Draining() {
			status, code = "draining", http.StatusServiceUnavailable
		}
		// A fleet that must not serve without Redis (-redis-required) says
		// so in its check; by default it is ok in per-instance mode.
		var fleet map[string]any
		if d.Fleet != nil {
			fleet = d.Fleet()
			if ok, _ := fleet["ok"].(bool); !ok && code == http.StatusOK {
				status, code = "not ready", http.StatusServiceUnavailable
			}
		}
		if _, verbose := r.URL.Query()["verbose"]; !verbose {
			writeJSON(w, code, map[string]string{"status": status})
			return
		}
		var checks []any
		for i, st := range statuses {
			check := map[string]any{"name": "auction_index", "source": d.Auctions[i].Source(), "ok": st.Loaded, "rows": st.Rows}
			if st.Loaded {
				check["built_at"] = st.BuiltAt.In(vehicle.KST).Format(time.RFC3339)
				check["age_seconds"] = int(time.Since(st.BuiltAt).Seconds())
			}
			if st.LastError != "" {
				check["last_crawl_error"] = st.LastError
			}
			checks = append(checks, check)
		}
		if fleet != nil {
			checks = append(checks, fleet)
		}
		b := buildinfo.Get()
		writeJSON(w, code, map[string]any{"status": status, "version": b.Version, "revision": b.Revision,
			"go_version": b.GoVersion, "checks": checks})
	}
}

func findBreaker(d AdminDeps, name string) *breaker.Breaker {
	for _, b := range d.Breakers {
		if b.Name() == name {
			return b
		}
	}
	return nil
}

type breakerView struct {
	breaker.Snapshot
	Auction any `json:"auction_index,omitempty"`
}

func view(d AdminDeps, b *breaker.Breaker, history bool) breakerView {
	v := breakerView{Snapshot: inKST(b.Snapshot(history))}
	if i := slices.IndexFunc(d.Auctions, func(a AuctionState) bool { return string(a.Source()) == b.Name() }); i >= 0 {
		st := d.Auctions[i].Status()
		a := map[string]any{"loaded": st.Loaded, "rows": st.Rows}
		if st.Loaded {
			a["built_at"] = st.BuiltAt.In(vehicle.KST)
			a["age_seconds"] = int(time.Since(st.BuiltAt).Seconds())
		}
		if st.LastError != "" {
			a["last_crawl_error"] = st.LastError
		}
		v.Auction = a
	}
	return v
}

// inKST gives every time of s Korea's offset, as the rest of the service
// writes them (+09:00, never Z), so the admin view reads like the logs
// partners quote.
func inKST(s breaker.Snapshot) breaker.Snapshot {
	kst := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		k := t.In(vehicle.KST)
		return &k
	}
	s.ChangedAt = s.ChangedAt.In(vehicle.KST)
	s.NextProbeAt, s.LastSuccessAt, s.LastErrorAt = kst(s.NextProbeAt), kst(s.LastSuccessAt), kst(s.LastErrorAt)
	for i := range s.History {
		s.History[i].At = s.History[i].At.In(vehicle.KST)
	}
	return s
}

func handleBreakers(d AdminDeps) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		out := make([]breakerView, len(d.Breakers))
		for i, b := range d.Breakers {
			out[i] = view(d, b, false)
		}
		body := map[string]any{"breakers": out}
		if d.Fleet != nil {
			body["fleet"] = d.Fleet()
		}
		writeJSON(w, http.StatusOK, body)
	}
}

func handleBreaker(d AdminDeps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b := findBreaker(d, r.PathValue("source"))
		if b == nil {
			writeError(w, r, d.Log, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no breaker for that source"})
			return
		}
		writeJSON(w, http.StatusOK, view(d, b, true))
	}
}

// handleBreakerAction applies an operator's force_open, force_closed or
// reset sent as JSON.
func handleBreakerAction(d AdminDeps) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b := findBreaker(d, r.PathValue("source"))
		if b == nil {
			writeError(w, r, d.Log, &Error{Status: http.StatusNotFound, Code: "not_found", Message: "no breaker for that source"})
			return
		}
		var req struct {
			Action string `json:"action"`
			Reason string `json:"reason"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeError(w, r, d.Log, badRequest(fmt.Sprintf("body must be {\"action\": …, \"reason\": …}: %v", err)))
			return
		}
		who := r.Header.Get("X-Operator")
		if who == "" {
			who = "unknown operator"
		}
		if err := operate(r, d, b, req.Action, req.Reason, who); err != nil {
			writeError(w, r, d.Log, err)
			return
		}
		writeJSON(w, http.StatusOK, view(d, b, true))
	}
}

// operate applies an operator's action to b, recording why, who and from
// where; the JSON API and the status page's forms both come here. A forced
// state needs a reason: it is what the next engineer reads. Putting a
// source back needs less explaining, so a reset without one is recorded as
// such.
func operate(r *http.Request, d AdminDeps, b *breaker.Breaker, action, why, who string) error {
	if why == "" && action == "reset" {
		why = "no reason given"
	}
	if why == "" {
		return badRequest("reason is required to force a breaker")
	}
	reason := fmt.Sprintf("%s (by %s from %s)", why, who, r.RemoteAddr)
	if err := b.Apply(action, reason); err != nil {
		return badRequest(err.Error())
	}
	d.Log.Warn("breaker changed by operator", "source", b.Name(), "action", action, "reason", reason,
		"request_id", requestID(r.Context()))
	if d.Override != nil {
		if err := d.Override(r.Context(), b.Name(), action, reason); err != nil {
			d.Log.Error("operator action applied to this replica only", "source", b.Name(), "action", action,
				"err", err, "request_id", requestID(r.Context()))
		}
	}
	return nil
}

func badRequest(msg string) error {
	return &Error{Status: http.StatusBadRequest, Code: "bad_request", Message: msg}
}
