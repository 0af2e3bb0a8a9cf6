// Command kuozheng runs and inspects the ledger of employer social-insurance enrollment and
// contribution arrears (扩面征缴).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
)

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

const usage = `kuozheng — event-sourced ledger of social-insurance enrollment and contribution arrears

Usage:
  kuozheng serve   [--data DIR] [--nats URL] [--ledger CITY] [--listen ADDR] [--tokens FILE] [--tls-cert FILE --tls-key FILE]
                   [--demo] [--today YYYY-MM-DD] [--lazy-fsync] [--log-format text|json] [--log-level LEVEL]
  kuozheng demo    [--years 2006[-YYYY]] [--employers N] [--seed S] [--data DIR | --nats URL]
  kuozheng import  FILE.csv|FILE.xlsx [--kind KIND] [--encoding utf-8|gbk] [--rejects FILE] [--server URL | --data DIR [--new-ledger]]
  kuozheng history EMPLOYER [--through-seq N] [--as-of YYYY-MM-DD] [--json] [--server URL | --data DIR | --nats URL]
  kuozheng freeze  --valid-through YYYY-MM-DD [--through-seq N] [--server URL | --data DIR]
  kuozheng documents notice  --employer ID --issued-on YYYY-MM-DD --deadline YYYY-MM-DD [--out FILE.pdf] [--data DIR]
  kuozheng documents notices --county CODE --issued-on YYYY-MM-DD --deadline YYYY-MM-DD --overdue-days N [--out FILE.zip] [--data DIR]
  kuozheng province figures|freeze|freezes|show|verify --nats URL [--cities CODE,...] [--year YYYY]
  kuozheng verify  [EMPLOYER] [--server URL | --data DIR | --nats URL]
  kuozheng backup  DIR [--data DIR | --nats URL] [--ledger CITY] [--stream NAME]
  kuozheng restore DIR [--data DIR | --nats URL] [--ledger CITY] [--replace] [--replicas N]
  kuozheng bench   http|rss|load|years|report ...   (scripts/bench.sh runs the whole suite)
  kuozheng version

Run 'kuozheng COMMAND --help' for a command's options.
import, history, freeze and verify talk to a running server (--server, default
http://127.0.0.1:8080, or https://… with --ca FILE for a private CA; token from KUOZHENG_TOKEN)
unless given a data folder that no server holds (--data) or a NATS URL (--nats); demo, documents,
backup and restore open the ledger themselves, with no server holding it.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage) // a usage error: on standard error, as every error is
		return 2
	}
	if args[0] == "help" && len(args) == 2 && !strings.HasPrefix(args[1], "-") {
		// help COMMAND is COMMAND --help.
		return run([]string{args[1], "--help"}, stdout, stderr)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if args[0] == "version" || args[0] == "--version" {
		if len(args) == 2 && (args[1] == "--help" || args[1] == "-h") {
			fmt.Fprintln(stdout, "Usage: kuozheng version\n\nPrints the build's version (its module version or commit) and Go's.")
			return 0
		}
		if len(args) > 1 {
			fmt.Fprintf(stderr, "kuozheng: version takes no argument, and was given %q\n", strings.Join(args[1:], " "))
			return 2
		}
		fmt.Fprintf(stdout, "kuozheng %s %s\n", kuozhengVersion(), runtime.Version())
		return 0
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(args[1:], stdout, stderr)
	case "history":
		err = history(args[1:], stdout, stderr)
	case "verify":
		err = verify(args[1:], stdout, stderr)
	case "demo":
		err = demoCmd(args[1:], stdout, stderr)
	case "freeze":
		err = freezeCmd(args[1:], stdout, stderr)
	case "import":
		err = importCmd(args[1:], stdout, stderr)
	case "documents":
		err = documentsCmd(args[1:], stdout, stderr)
	case "province":
		err = provinceCmd(args[1:], stdout, stderr)
	case "bench":
		err = benchCmd(args[1:], stdout, stderr)
	case "backup":
		err = backupCmd(args[1:], stdout, stderr)
	case "restore":
		err = restoreCmd(args[1:], stdout, stderr)
	default:
		err = usageError{fmt.Sprintf("unknown command %q; run 'kuozheng --help'", args[0])}
	}
	var ue usageError
	var rr rowsRejected
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "kuozheng:", err)
		return 2
	case errors.As(err, &rr):
		fmt.Fprintln(stderr, "kuozheng:", err)
		return 3
	default:
		fmt.Fprintln(stderr, "kuozheng:", err)
		return 1
	}
}
