package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// cmdDemo runs `skillreg demo --certificates N [--seed S]`: a synthetic
// population for trying the officials' dashboard (registry.LoadDemo),
// written in bulk, with the statistics counters built at the end.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dataFlags
	d.register(fs)
	n := fs.Int("certificates", 10000, "how many certificates to make")
	seed := fs.Uint64("seed", 1, "random seed: the same seed makes the same population")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	// Hidden: a CPU profile of the whole run, for measuring the loader.
	cpuprofile := fs.String("cpuprofile", "", "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *n < 1 || *n > 50_000_000 {
		return fmt.Errorf("--certificates must be 1 to 50000000, got %d", *n)
	}
	// A soft limit on the Go heap, so that the collector runs before the
	// heap doubles: the loader's live data is a fixed part (the batch, the
	// counters) and about 48 bytes per certificate (the status-list
	// indexes drawn), and without a limit the heap of a 1,000,000 load
	// peaks near twice that. The limit only makes the collector work
	// harder near it; it never fails an allocation.
	if old := debug.SetMemoryLimit(-1); old == math.MaxInt64 {
		debug.SetMemoryLimit(160<<20 + int64(*n)*48)
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if d.mongoURI == "" {
		if _, err := os.Stat(filepath.Join(d.dataDir, demoIncomplete)); err == nil {
			return fmt.Errorf("%s holds a demo whose load did not finish (%s is there): delete the directory and run the demo again", d.dataDir, demoIncomplete)
		}
	}
	e, err := openEnv(ctx, d, true)
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.keys().Ensure(ctx, nowUTC()); err != nil {
		return fmt.Errorf("creating the signing key: %w", err)
	}
	keys, err := e.store.SigningKeys(ctx)
	if err != nil {
		return err
	}
	kid := ""
	for _, k := range keys {
		if k.Active {
			kid = k.ID
		}
	}
	// Audit events at warn and above only: the demo's issuers would
	// otherwise fill the terminal.
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	reg := registry.New(registry.Config{Store: e.store, Vault: e.vault, Logger: logger})
	admin := &registry.User{ID: "demo", Username: "demo", Role: registry.RoleAdmin}
	// Certificates and their counters are written together, batch by
	// batch: one bar.
	bar := newCountBar(stderr, "证书 certificates", *quiet)
	start := time.Now()
	var res *registry.DemoResult
	load := func() error {
		res, err = reg.LoadDemo(ctx, admin, registry.DemoOptions{Certificates: *n, Seed: *seed, KeyID: kid,
			Progress: func(phase string, done, total int64) {
				if phase == "certificates" {
					bar.show(done, total, "")
				}
			}})
		return err
	}
	// A store with no certificates yet, in a data directory of its own,
	// is filled in bulk; certificates already there are never put at risk.
	some, err := e.store.CertificatesInHolderOrder(ctx, "", 1)
	if err != nil {
		return err
	}
	if b, ok := e.store.(bulkLoader); ok && len(some) == 0 {
		err = bulkDemo(ctx, d.dataDir, b, load, stderr)
	} else {
		err = load()
	}
	bar.done()
	if err != nil {
		return err
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "demo: %d certificates (%d revoked) of %d people, %d new issuers, with their counters, in %s\n",
		res.Certificates, res.Revoked, res.People, res.Issuers, took.Round(time.Millisecond))
	// The counters were built with the certificates; check that they
	// match.
	check, err := reg.CheckStats(ctx, stats.CheckOptions{})
	if err != nil {
		return err
	}
	return reportCheck(stdout, check, time.Since(start)-took)
}

// bulkLoader is a store that can take a large load with its durability
// relaxed (the SQLite store's BulkLoad).
type bulkLoader interface {
	BulkLoad(ctx context.Context, load func() error) error
}

// demoIncomplete is the file in the data directory that marks a demo
// load in progress, or one that never finished.
const demoIncomplete = "demo-incomplete"

// bulkDemo runs load through the store's bulk mode, which does not flush
// commits to disk until the end: a load cut short (crash, kill, power
// loss) may leave the database unusable. The marker file says so until
// the load has finished and is on disk; while it is there, demo refuses
// to run on the directory.
func bulkDemo(ctx context.Context, dataDir string, b bulkLoader, load func() error, stderr io.Writer) error {
	mark := filepath.Join(dataDir, demoIncomplete)
	note := "a demo load is running or was cut short: the database in this directory may be incomplete or damaged; delete the directory and run skillreg demo again\n"
	if err := os.WriteFile(mark, []byte(note), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "demo: bulk load, not crash-safe: if it is cut short, delete %s and start again\n", dataDir)
	if err := b.BulkLoad(ctx, load); err != nil {
		return err
	}
	return os.Remove(mark)
}
