package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lmn/aggregator/sources/danawa"
	"github.com/lmn/aggregator/sources/encar"
	"github.com/lmn/aggregator/sources/glovis"
	"github.com/lmn/aggregator/vehicle"
)

const extractUsage = `usage: aggregator extract -source encar|danawa|glovis -kind list|detail [-date YYYY-MM-DD] FILE

Runs an extractor on a saved upstream page (FILE "-" reads standard input)
and prints the normalised rows, or the one vehicle, as JSON. A page the
extractor rejects exits 1 with the reason: blocked, login required, drift
(and what is missing), not found.
`

// maxPage bounds what extract reads: no real page is near it.
const maxPage = 64 << 20

func extract(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("extract", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, extractUsage); fs.PrintDefaults() }
	source := fs.String("source", "", "encar, danawa or glovis")
	kind := fs.String("kind", "list", "list or detail")
	date := fs.String("date", "", "auction date of a Glovis list, when the page does not carry it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("extract: give one FILE (or - for standard input)")
	}
	what := *source + " " + *kind
	switch what {
	case "encar list", "encar detail", "danawa list", "glovis list", "glovis detail":
	case "danawa detail":
		return errors.New("extract: Danawa has no detail page; its rows come from lists")
	default:
		fs.Usage()
		return fmt.Errorf("extract: unknown -source %q or -kind %q", *source, *kind)
	}
	body, err := readPage(fs.Arg(0), stdin)
	if err != nil {
		return fmt.Errorf("extract: %w", err)
	}
	var out any
	switch what {
	case "encar list":
		var l *encar.List
		if l, err = encar.ExtractList(body, 0, encar.MaxCount); err == nil {
			out = l
		}
	case "encar detail":
		out, err = encar.ExtractDetail(body)
	case "danawa list":
		var l *danawa.List
		if l, err = danawa.ExtractList(body, 1); err == nil {
			out = l
		}
	case "glovis list":
		// A login or drifted page says so before a missing date does.
		d, dateErr := glovisDate(body, *date)
		var l *glovis.List
		if l, err = glovis.ExtractList(body, d); err == nil {
			out, err = l, dateErr
		}
	case "glovis detail":
		out, err = glovis.ExtractDetail(body)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
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
