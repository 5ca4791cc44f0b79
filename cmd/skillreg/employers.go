package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// employerFlags are serve's flags for API keys and the trust bundle.
type employerFlags struct {
	apiKeyRate ratelimit.Rate
	bundleTTL  time.Duration
	envErr     error
}

// registerEmployerFlags adds --rate-api-key and --bundle-ttl, each with
// its environment fallback, to fs.
func registerEmployerFlags(fs *flag.FlagSet) *employerFlags {
	ef := &employerFlags{apiKeyRate: ratelimit.DefaultAPIKeyRate, bundleTTL: handlers.DefaultBundleTTL}
	if v := os.Getenv("SKILLREG_RATE_API_KEY"); v != "" {
		if err := ef.apiKeyRate.Set(v); err != nil {
			ef.envErr = fmt.Errorf("SKILLREG_RATE_API_KEY: %w", err)
		}
	}
	if v := os.Getenv("SKILLREG_BUNDLE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			ef.envErr = fmt.Errorf("SKILLREG_BUNDLE_TTL: %w", err)
		}
		ef.bundleTTL = d
	}
	fs.Var(&ef.apiKeyRate, "rate-api-key", "default token bucket of each API key (a token costs 1, a number+name lookup 10), e.g. 12000/min (env SKILLREG_RATE_API_KEY)")
	fs.DurationVar(&ef.bundleTTL, "bundle-ttl", ef.bundleTTL, "time-to-live written into the trust bundle, from 1m to 720h (env SKILLREG_BUNDLE_TTL)")
	return ef
}

// check validates the flags before serving.
func (ef *employerFlags) check() error {
	if ef.envErr != nil {
		return ef.envErr
	}
	if ef.apiKeyRate.N == 0 {
		return fmt.Errorf("--rate-api-key cannot be off: API keys are always rate limited")
	}
	if ef.bundleTTL < time.Minute || ef.bundleTTL > 720*time.Hour {
		return fmt.Errorf("--bundle-ttl must be from 1m to 720h, got %s", ef.bundleTTL)
	}
	return nil
}

// config returns the server's employer configuration.
func (ef *employerFlags) config(tokens *verify.Tokens) handlers.EmployerConfig {
	return handlers.EmployerConfig{APIKeyRate: ef.apiKeyRate, BundleTTL: ef.bundleTTL, SignBundle: tokens.SignTrustBundle}
}

// assignStatusIndexes gives certificates stored before status lists their
// index, before the server answers its first request.
func assignStatusIndexes(ctx context.Context, reg *registry.Registry, logger *slog.Logger) error {
	n, err := reg.AssignStatusIndexes(ctx)
	if err != nil {
		return fmt.Errorf("assigning status-list indexes to older certificates: %w", err)
	}
	if n > 0 {
		logger.Info("assigned status-list indexes to older certificates", "count", n)
	}
	return nil
}
