package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/lmn/aggregator/httpapi"
)

const keysUsage = `usage: aggregator keys hash < key

hash reads one API key from stdin and prints its sha256 form, for a keys
file entry {"partner": …, "sha256": …} that does not hold the key itself.
`

// keys runs the keys subcommand. The key is read from stdin, not taken as an
// argument, so it stays out of shell history and the process list.
func keys(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		fmt.Fprint(stdout, keysUsage)
		return nil
	}
	if len(args) != 1 || args[0] != "hash" {
		fmt.Fprint(stderr, keysUsage)
		return errors.New("keys: want the subcommand hash")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("keys hash: reading stdin: %w", err)
	}
	h, err := httpapi.HashKey(strings.TrimSpace(line))
	if err != nil {
		return fmt.Errorf("keys hash: %w", err)
	}
	fmt.Fprintln(stdout, h)
	return nil
}
