package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if *n < 1 || *n > 50_000_000 {
		return fmt.Errorf("--certificates must be 1 to 50000000, got %d", *n)
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
	res, err := reg.LoadDemo(ctx, admin, registry.DemoOptions{Certificates: *n, Seed: *seed, KeyID: kid,
		Progress: func(phase string, done, total int64) {
			if phase == "certificates" {
				bar.show(done, total, "")
			}
		}})
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
