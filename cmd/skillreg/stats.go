package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// errDrift is returned when stats check found differences it did not
// repair: the command exits 1.
var errDrift = errors.New("the statistics counters differ from the certificates (run with --repair)")

// cmdStats runs `skillreg stats check [--repair]`: it recomputes every
// statistics counter from the certificate records, prints each difference
// and, with --repair, writes the corrections. Safe while servers run (see
// registry.CheckStats).
func cmdStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New("usage: skillreg stats check [--repair] [--grace DUR] [--data DIR | --mongo-uri URI]")
	}
	fs := flag.NewFlagSet("stats check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dataFlags
	d.register(fs)
	repair := fs.Bool("repair", false, "write the corrections (counters by delta, holder states through ops)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	grace := fs.Duration("grace", stats.Lease, "counter updates left unfinished for longer than GRACE are taken as abandoned and finished first; younger ones are waited for (up to GRACE), as a running server may still be at them. 0 finishes every one at once: use it when no server is running")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *grace < 0 {
		return fmt.Errorf("--grace must not be negative, got %s", *grace)
	}
	opts := stats.CheckOptions{Repair: *repair, Grace: *grace}
	if *grace == 0 {
		opts.Grace = -1 // CheckOptions' "no grace": 0 there means the default
	}
	e, err := openEnv(ctx, d, false)
	if err != nil {
		return err
	}
	defer e.Close()
	reg := registry.New(registry.Config{Store: e.store, Vault: e.vault})
	bar := newCountBar(stderr, "检查 check", *quiet)
	start := time.Now()
	opts.Progress = func(h, c int64) {
		bar.show(h, 0, fmt.Sprintf("holders, %d certificates", c))
	}
	res, err := reg.CheckStats(ctx, opts)
	bar.done()
	if err != nil {
		return err
	}
	return reportCheck(stdout, res, time.Since(start))
}

// reportCheck prints what a check found and returns errDrift when a
// difference was left unrepaired.
func reportCheck(w io.Writer, res *stats.CheckResult, took time.Duration) error {
	fmt.Fprintf(w, "walked %d holders, %d certificates in %s; finished %d unfinished updates first\n",
		res.Holders, res.Certificates, took.Round(time.Millisecond), res.Recovered)
	if res.Busy {
		fmt.Fprintf(w, "warning: writes kept coming: %d differing counters that live writes may have moved are unconfirmed (neither listed nor repaired); run again\n", res.Unconfirmed)
	}
	if res.HolderDiffs > 0 {
		fmt.Fprintf(w, "holders whose counted state differed from their certificates: %d\n", res.HolderDiffs)
	}
	for i, d := range res.CellDiffs {
		if i == 200 {
			fmt.Fprintf(w, "... and %d more counters\n", len(res.CellDiffs)-200)
			break
		}
		fmt.Fprintf(w, "counter %s\n", d)
	}
	switch {
	case res.Busy && !res.Drift():
		return errors.New("differences unconfirmed while writes kept coming")
	case !res.Drift():
		fmt.Fprintln(w, "no drift: every counter matches the certificates")
		return nil
	case res.Repaired:
		fmt.Fprintf(w, "repaired: %d holders, %d counters\n", res.HolderDiffs, len(res.CellDiffs))
		return nil
	}
	return errDrift
}

// countBar draws progress on stderr: in place on a terminal, a line every
// few seconds otherwise.
type countBar struct {
	w     io.Writer
	what  string
	tty   bool
	off   bool
	drawn bool
	last  time.Time
}

func newCountBar(w io.Writer, what string, off bool) *countBar {
	b := &countBar{w: w, what: what, off: off}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

// show draws done of total (total 0: unknown) with a unit.
func (b *countBar) show(done, total int64, unit string) {
	if b.off {
		return
	}
	line := fmt.Sprintf("%s %d %s", b.what, done, unit)
	if total > 0 {
		const width = 30
		frac := float64(min(done, total)) / float64(total)
		filled := int(frac * width)
		line = fmt.Sprintf("%s [%s%s] %d/%d %3.0f%% %s", b.what, strings.Repeat("#", filled), strings.Repeat("-", width-filled), done, total, frac*100, unit)
	}
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K", line)
		b.drawn = true
		return
	}
	if time.Since(b.last) < 5*time.Second && done != total {
		return
	}
	b.last = time.Now()
	fmt.Fprintln(b.w, line)
}

func (b *countBar) done() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
