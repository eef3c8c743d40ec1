package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/lmn/aggregator/httpapi"
	"github.com/lmn/aggregator/registry"
	"github.com/lmn/aggregator/vehicle"
)

const extractUsage = `usage: aggregator extract -source %s -kind list|detail [-date YYYY-MM-DD] [-fx-rate N] [-raw] FILE

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
	var names []string
	for _, d := range registry.All() {
		names = append(names, string(d.Name))
	}
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, extractUsage, strings.Join(names, "|")); fs.PrintDefaults() }
	source := fs.String("source", "", strings.Join(names, ", "))
	kind := fs.String("kind", "list", "list or detail")
	var opt registry.PageOptions
	fs.StringVar(&opt.Date, "date", "", "auction date of an auction's list, when the page does not carry it")
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
	d, known := registry.Lookup(vehicle.Source(*source))
	pages := map[string]registry.Page{"list": d.Pages.List, "detail": d.Pages.Detail}
	page, kindKnown := pages[*kind]
	switch {
	case !known || !kindKnown:
		fs.Usage()
		return fmt.Errorf("extract: unknown -source %q or -kind %q", *source, *kind)
	case page.Never != "":
		return fmt.Errorf("extract: %s", page.Never)
	case page.Extract == nil:
		return fmt.Errorf("extract: no extractor for %s %s pages", *source, *kind)
	}
	body, err := readPage(fs.Arg(0), stdin)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	internal, rows, err := page.Extract(body, opt)
	if err != nil {
		return fmt.Errorf("%s %s: %w", *source, *kind, err)
	}
	var out any = internal
	switch {
	case *raw:
	case *kind == "detail":
		if len(rows) != 1 {
			return fmt.Errorf("%s detail: the extractor gave %d vehicles, not one", *source, len(rows))
		}
		out = httpapi.Detail(&rows[0], rate)
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
