package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/lmn/aggregator/buildinfo"
)

// printVersion prints which build this binary is: the same values as the
// lmn_build_info metric and /readyz?verbose.
func printVersion(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	b := buildinfo.Get()
	if *asJSON {
		return json.NewEncoder(stdout).Encode(b)
	}
	modified := ""
	if b.Modified {
		modified = " (modified)"
	}
	_, err := fmt.Fprintf(stdout, "aggregator %s revision %s%s %s\n", b.Version, b.Revision, modified, b.GoVersion)
	return err
}
