package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/sources/encar"
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/sources/kcar"
	"github.com/lmn/aggregator/vehicle"
)

const extractUsage = `usage: aggregator extract -source encar|danawa|glovis|kcar -kind list|detail [-date YYYY-MM-DD] [-fx-rate N] [-raw] FILE

Runs an extractor on a saved upstream page (FILE "-" reads standard input)
and prints what the API would serve from it: {"data": [VehicleSummary…]}
for a list, the Vehicle for a detail, in the API's own JSON (snake_case,
prices in dollars at -fx-rate, unknown values null). -raw prints the
extractor's internal form instead (Go field names, won, the page's total).
A page the extractor rejects exits 1 with the reason: blocked, login
required, drift (and what is missing), not found.
`

// maxPage bounds what extract reads: no real page is near it.
const maxPage = 64 << 20

func extract(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, extractUsage); fs.PrintDefaults() }
	source := fs.String("source", "", "encar, danawa, glovis or kcar")
	kind := fs.String("kind", "list", "list or detail")
	date := fs.String("date", "", "auction date of a Glovis list, when the page does not carry it")
	rate := 1350.0
	fs.Var((*positive)(&rate), "fx-rate", "won per US dollar for prices, as serve's -fx-rate (default 1350)")
	raw := fs.Bool("raw", false, "print the extractor's internal form, not the API's")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("extract: give one FILE (or - for standard input)")
	}
	what := *source + " " + *kind
	switch what {
	case "encar list", "encar detail", "danawa list", "glovis list", "glovis detail", "kcar list":
	case "danawa detail":
		return errors.New("extract: Danawa has no detail page; its rows come from lists")
	case "kcar detail":
		return errors.New("extract: K Car's detail page is never read (it holds the consignor's data); its rows come from lists")
	default:
		fs.Usage()
		return fmt.Errorf("extract: unknown -source %q or -kind %q", *source, *kind)
	}
	body, err := readPage(fs.Arg(0), stdin)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	var internal any           // what the extractor returned
	var rows []vehicle.Vehicle // a list's rows
	var one *vehicle.Vehicle   // a detail's vehicle
	switch what {
	case "encar list":
		var l *encar.List
		if l, err = encar.ExtractList(body, 0, encar.MaxCount); err == nil {
			internal, rows = l, l.Rows
		}
	case "encar detail":
		var v vehicle.Vehicle
		if v, err = encar.ExtractDetail(body); err == nil {
			internal, one = v, &v
		}
	case "danawa list":
		var l *danawa.List
		if l, err = danawa.ExtractList(body, 1); err == nil {
			internal, rows = l, l.Rows
		}
	case "glovis list":
		// A login or drifted page says so before a missing date does.
		d, dateErr := glovisDate(body, *date)
		var l *glovis.List
		if l, err = glovis.ExtractList(body, d); err == nil {
			internal, err = l, dateErr
			for _, lot := range l.Lots {
				rows = append(rows, lot.Vehicle)
			}
		}
	case "kcar list":
		// The answer echoes its lane; the rows do not say theirs.
		var l *kcar.List
		if l, err = kcar.ExtractList(body, ""); err == nil {
			internal = l
			for _, lot := range l.Lots {
				rows = append(rows, lot.Vehicle)
			}
		}
	case "glovis detail":
		var d glovis.Detail
		if d, err = glovis.ExtractDetail(body); err == nil {
			// The page names no lot or auction date: the API merges it into
			// the lot's list row. This shows what the page adds.
			v := glovis.Enrich(vehicle.Vehicle{Source: vehicle.Glovis, Make: d.Make, Model: d.Model, Trim: d.Trim,
				Year: d.Year, MileageKm: d.MileageKm, PriceKRW: d.PriceKRW, EngineCC: d.EngineCC}, d)
			internal, one = d, &v
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	var out any = internal
	switch {
	case *raw:
	case one != nil:
		out = httpapi.Detail(one, rate)
	default:
		data := make([]any, len(rows))
		for i := range rows {
			data[i] = httpapi.Summary(&rows[i], rate)
		}
		out = map[string]any{"data": data}
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func readPage(name string, stdin io.Reader) ([]byte, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxPage+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxPage {
		return nil, fmt.Errorf("%s: over %d bytes", name, maxPage)
	}
	return b, nil
}

// glovisDate is the auction date of a list page: -date, or the page's own
// round selector. Lot ids contain the date, so it is never guessed.
func glovisDate(body []byte, flagValue string) (time.Time, error) {
	if flagValue != "" {
		d, err := time.ParseInLocation("2006-01-02", flagValue, vehicle.KST)
		if err != nil {
			return time.Time{}, fmt.Errorf("-date: want YYYY-MM-DD, got %q", flagValue)
		}
		return d.Add(13 * time.Hour), nil
	}
	if rounds, err := glovis.ExtractRounds(body); err == nil && len(rounds) == 1 {
		return rounds[0].Date, nil
	}
	return time.Time{}, errors.New("the page does not say its auction date; give -date YYYY-MM-DD")
}
