package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lmn/aggregator/breaker"
	"github.com/lmn/aggregator/vehicle"
)

const breakersUsage = `usage:
  aggregator breakers [-admin URL] [-json]                      show every breaker
  aggregator breakers [-admin URL] show SOURCE                  one breaker with its history
  aggregator breakers [-admin URL] force-open SOURCE -reason R  take a source out of rotation
  aggregator breakers [-admin URL] force-closed SOURCE -reason R
  aggregator breakers [-admin URL] reset SOURCE [-reason R]     back to a normal, closed breaker
  aggregator breakers -admin URL,URL,… [-json]                  the fleet: every replica's breakers
`

// breakerView is the admin listener's JSON for one breaker.
type breakerView struct {
	breaker.Snapshot
	Auction map[string]any `json:"auction_index"`
}

func breakers(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("breakers", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, breakersUsage); fs.PrintDefaults() }
	def := "http://127.0.0.1:9090"
	if v := getenv("LMN_ADMIN_URL"); v != "" {
		def = v
	}
	admin := fs.String("admin", def, "admin listener URL, or several (comma-separated) to see a fleet's replicas; actions go to the first ($LMN_ADMIN_URL)")
	asJSON := fs.Bool("json", false, "print JSON for scripts")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	urls := strings.Split(*admin, ",")
	client := func(u string) *adminClient {
		return &adminClient{base: strings.TrimRight(strings.TrimSpace(u), "/"), http: &http.Client{Timeout: 5 * time.Second},
			token: getenv("LMN_ADMIN_TOKEN")}
	}
	// An action needs one replica: with -redis it reaches the others.
	c := client(urls[0])
	rest := fs.Args()
	if len(rest) == 0 && len(urls) > 1 {
		return printFleet(ctx, stdout, urls, client, *asJSON)
	}
	if len(rest) == 0 {
		var out struct {
			Breakers []breakerView `json:"breakers"`
			Fleet    *fleetView    `json:"fleet"`
		}
		raw, err := c.do(ctx, http.MethodGet, "/debug/breakers", nil, &out)
		if err != nil {
			return err
		}
		if *asJSON {
			_, err := stdout.Write(raw)
			return err
		}
		if err := printTable(stdout, out.Breakers, time.Now()); err != nil {
			return err
		}
		if out.Fleet != nil {
			return printFleetState(stdout, []string{c.base}, []*fleetView{out.Fleet})
		}
		return nil
	}
	action, rest := rest[0], rest[1:]
	verb := map[string]string{"show": "show", "force-open": "force_open", "force-closed": "force_closed", "reset": "reset"}[action]
	if verb == "" {
		fs.Usage()
		return fmt.Errorf("breakers: unknown action %q", action)
	}
	// The action's own flags may come before or after the source.
	afs := flag.NewFlagSet("breakers "+action, flag.ContinueOnError)
	afs.SetOutput(stderr)
	afs.Usage = func() { fmt.Fprint(stderr, breakersUsage); afs.PrintDefaults() }
	var reason *string
	if verb != "show" {
		help := "why (required; it goes into the breaker's history)"
		if verb == "reset" {
			help = "why (it goes into the breaker's history; optional)"
		}
		reason = afs.String("reason", "", help)
	}
	if err := parseFlags(afs, rest); err != nil {
		return err
	}
	if afs.NArg() == 0 {
		afs.Usage()
		return fmt.Errorf("breakers %s: which source?", action)
	}
	source := afs.Arg(0)
	if err := parseFlags(afs, afs.Args()[1:]); err != nil {
		return err
	}
	if afs.NArg() > 0 {
		return fmt.Errorf("breakers %s: unexpected %q", action, afs.Arg(0))
	}
	if verb == "show" {
		var v breakerView
		raw, err := c.do(ctx, http.MethodGet, "/debug/breakers/"+source, nil, &v)
		if err != nil {
			return err
		}
		if *asJSON {
			_, err := stdout.Write(raw)
			return err
		}
		return printOne(stdout, v, time.Now())
	}
	// The admin listener records "no reason given" for a bare reset.
	if *reason == "" && verb != "reset" {
		return fmt.Errorf("breakers %s: -reason is required", action)
	}
	body, _ := json.Marshal(map[string]string{"action": verb, "reason": *reason})
	var v breakerView
	if _, err := c.do(ctx, http.MethodPost, "/debug/breakers/"+source, body, &v); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s is now %s\n", v.Source, v.State)
	return nil
}

type adminClient struct {
	base  string
	http  *http.Client
	token string // the service's -admin-token, sent as a bearer token when set
}

func (c *adminClient) do(ctx context.Context, method, path string, body []byte, out any) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Operator", "aggregator-cli")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin listener at %s is unreachable (is the service running, and is -admin right?): %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Error.Message != "" {
			return nil, fmt.Errorf("%s %s: %s (%s)", method, path, e.Error.Message, e.Error.Code)
		}
		return nil, fmt.Errorf("%s %s: status %d", method, path, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, fmt.Errorf("%s %s: not the admin API's JSON: %w", method, path, err)
	}
	return raw, nil
}

func ago(t time.Time, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		return "in " + (-d).String()
	}
	return d.String() + " ago"
}

func printTable(w io.Writer, views []breakerView, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tSTATE\tFAILURE RATE\tSLOW RATE\tREQUESTS\tREJECTED\tLAST CHANGE\tNEXT PROBE\tLAST ERROR\tLAST FAILED OR SLOW CALL")
	for _, v := range views {
		probe := "-"
		if v.NextProbeAt != nil {
			probe = ago(*v.NextProbeAt, now)
		}
		// The window is wiped when the breaker trips: an open breaker is
		// shown with the window that tripped it.
		rate, slow, requests := v.FailureRate, v.SlowRate, v.Requests
		if v.State == "open" && v.Trip != nil && v.Trip.Requests > 0 {
			n := float64(v.Trip.Requests)
			rate, slow, requests = float64(v.Trip.Failures)/n, float64(v.Trip.Slow)/n, v.Trip.Requests
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f%%\t%.0f%%\t%d\t%d\t%s\t%s\t%s\t%s\n", v.Source, v.State, rate*100, slow*100, requests,
			v.RejectedSince, ago(v.ChangedAt, now), probe, cut(v.LastError), cut(v.LastCall))
	}
	return tw.Flush()
}

// cut is s for a table cell: "-" when absent, at most 80 characters.
func cut(s *string) string {
	if s == nil {
		return "-"
	}
	if len(*s) > 80 {
		return (*s)[:77] + "..."
	}
	return *s
}

// printFleet shows every replica's breakers, one row per replica per
// source: automatic states differ between replicas by design, operators'
// overrides should not. A replica that does not answer is a row saying so.
func printFleet(ctx context.Context, w io.Writer, urls []string, client func(string) *adminClient, asJSON bool) error {
	type replica struct {
		Admin    string        `json:"admin"`
		Error    string        `json:"error,omitempty"`
		Breakers []breakerView `json:"breakers"`
		Fleet    *fleetView    `json:"fleet,omitempty"`
	}
	var fleet []replica
	for _, u := range urls {
		c := client(u)
		var out struct {
			Breakers []breakerView `json:"breakers"`
			Fleet    *fleetView    `json:"fleet"`
		}
		r := replica{Admin: c.base}
		if _, err := c.do(ctx, http.MethodGet, "/debug/breakers", nil, &out); err != nil {
			r.Error = err.Error()
		}
		r.Breakers, r.Fleet = out.Breakers, out.Fleet
		fleet = append(fleet, r)
	}
	// A replica that could not be read is shown, and fails the command: a
	// script checking the fleet must not read a partial view as healthy.
	var failed []string
	for _, r := range fleet {
		if r.Error != "" {
			failed = append(failed, r.Admin)
		}
	}
	var unreachable error
	if len(failed) > 0 {
		unreachable = fmt.Errorf("breakers: %d of %d replicas could not be read: %s", len(failed), len(fleet), strings.Join(failed, ", "))
	}
	if asJSON {
		if err := json.NewEncoder(w).Encode(map[string]any{"replicas": fleet}); err != nil {
			return err
		}
		return unreachable
	}
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICA\tSOURCE\tSTATE\tREJECTED\tLAST CHANGE\tLAST ERROR")
	for _, r := range fleet {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t-\tunreachable\t-\t-\t%s\n", r.Admin, r.Error)
			continue
		}
		for _, v := range r.Breakers {
			lastErr := "-"
			if v.LastError != nil {
				lastErr = *v.LastError
				if len(lastErr) > 60 {
					lastErr = lastErr[:57] + "..."
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", r.Admin, v.Source, v.State, v.RejectedSince, ago(v.ChangedAt, now), lastErr)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var admins []string
	var views []*fleetView
	for _, r := range fleet {
		if r.Fleet != nil {
			admins, views = append(admins, r.Admin), append(views, r.Fleet)
		}
	}
	if err := printFleetState(w, admins, views); err != nil {
		return err
	}
	return unreachable
}

// fleetView is a replica's fleet check (/debug/breakers "fleet", the same
// as its /readyz?verbose entry).
type fleetView struct {
	Mode           string            `json:"mode"`
	Failure        string            `json:"failure"`
	Since          string            `json:"since"`
	Required       bool              `json:"required"`
	FleetSize      int               `json:"fleet_size"`
	Crawling       bool              `json:"crawling"`
	AuctionVersion int64             `json:"auction_version"`
	Errors         map[string]uint64 `json:"errors"`
	LastError      string            `json:"last_error"`
}

// printFleetState shows each replica's use of Redis after its breakers: a
// replica in per-instance mode is the first thing an operator must see.
func printFleetState(w io.Writer, admins []string, views []*fleetView) error {
	if len(views) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "REPLICA\tREDIS\tFAILURE\tSINCE\tFLEET SIZE\tCRAWLING\tAUCTION VERSION\tREDIS ERRORS\tLAST ERROR")
	for i, v := range views {
		failure, lastErr := cmp.Or(v.Failure, "-"), cmp.Or(v.LastError, "-")
		if len(lastErr) > 60 {
			lastErr = lastErr[:57] + "..."
		}
		kinds := slices.Sorted(maps.Keys(v.Errors))
		var errs []string
		for _, k := range kinds {
			if v.Errors[k] > 0 {
				errs = append(errs, fmt.Sprintf("%s=%d", k, v.Errors[k]))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%t\t%d\t%s\t%s\n", admins[i], v.Mode, failure, v.Since, v.FleetSize,
			v.Crawling, v.AuctionVersion, cmp.Or(strings.Join(errs, ","), "0"), lastErr)
	}
	return tw.Flush()
}

func printOne(w io.Writer, v breakerView, now time.Time) error {
	if err := printTable(w, []breakerView{v}, now); err != nil {
		return err
	}
	if v.Trip != nil {
		fmt.Fprintf(w, "\nlast trip: %d of %d calls failed; last error: %s\n", v.Trip.Failures, v.Trip.Requests, v.Trip.LastError)
	}
	if v.Auction != nil {
		fmt.Fprintf(w, "\nauction index: %v rows, %v s old\n", v.Auction["rows"], v.Auction["age_seconds"])
	}
	if len(v.History) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nhistory (newest first):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, t := range v.History {
		fmt.Fprintf(tw, "%s\t%s → %s\t%s\n", t.At.In(vehicle.KST).Format(time.RFC3339), t.From, t.To, t.Reason)
	}
	return tw.Flush()
}
