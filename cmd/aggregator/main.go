// Command aggregator serves LMN's vehicle listings API over the Glovis
// auction and the Encar and Danawa dealer sites.
//
//	aggregator serve [-sim] [flags]    run the service
//	aggregator breakers [action]        inspect and override the breakers
//	aggregator extract -source S FILE   run an extractor on a saved page
//	aggregator sim [-latency D]         run the simulated upstreams on their own
//	aggregator load [-rate N]           drive a running service open-loop and measure it
//	aggregator naive                    the baseline gateway load compares the service with
//	aggregator keys hash < key          print the sha256 form of an API key
//	aggregator version                  print the build's version and revision
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "aggregator:", err)
		os.Exit(1)
	}
}

const usage = `usage: aggregator <command> [flags]

commands:
  serve     run the service (add -sim for a self-contained demo)
  breakers  show and override the upstreams' circuit breakers
  extract   run an extractor on a saved upstream page
  sim       run the simulated upstreams as a process of their own
  load      drive a running service open-loop at a fixed rate; compare it with a naive gateway
  naive     the naive gateway load starts as its baseline
  keys      print the sha256 form of an API key read from stdin (keys hash)
  version   print the version, revision and Go version of this build

Run "aggregator <command> -h" for the flags of a command.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	err := command(ctx, args, getenv, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h printed the usage it asked for: not a failure
	}
	return err
}

// parseFlags parses a command's flags. A bad flag is one line naming it and
// a hint, not the command's whole usage (which scrolled the error out of
// sight); -h prints the usage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		if usage != nil {
			usage()
		} else {
			fmt.Fprintf(out, "usage of aggregator %s:\n", fs.Name())
			fs.PrintDefaults()
		}
		return err
	case err != nil:
		return fmt.Errorf("%s: %w (run \"aggregator %s -h\" for its flags)", fs.Name(), err, strings.Fields(fs.Name())[0])
	}
	return nil
}

func command(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command")
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stdout, stderr)
	case "breakers":
		return breakers(ctx, args[1:], getenv, stdout, stderr)
	case "extract":
		return extract(args[1:], os.Stdin, stdout, stderr)
	case "sim":
		return simulate(ctx, args[1:], stdout, stderr)
	case "load":
		return load(ctx, args[1:], stdout, stderr)
	case "naive":
		return naive(ctx, args[1:], stdout, stderr)
	case "keys":
		return keys(args[1:], os.Stdin, stdout, stderr)
	case "version":
		return printVersion(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}
