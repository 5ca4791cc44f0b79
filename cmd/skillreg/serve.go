package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/skillreg/skillreg/handlers"
	"github.com/skillreg/skillreg/ratelimit"
	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

func nowUTC() time.Time { return time.Now().UTC() }

type serveFlags struct {
	dataFlags
	addr      string
	publicURL string
	logLevel  string
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	f.register(fs)
	fs.StringVar(&f.addr, "addr", envOr("SKILLREG_ADDR", "127.0.0.1:8080"), "listen address (env SKILLREG_ADDR)")
	fs.StringVar(&f.publicURL, "public-url", envOr("SKILLREG_PUBLIC_URL", "http://127.0.0.1:8080"), "base URL put into QR codes (env SKILLREG_PUBLIC_URL)")
	fs.StringVar(&f.logLevel, "log-level", envOr("SKILLREG_LOG_LEVEL", "info"), "debug, info, warn or error (env SKILLREG_LOG_LEVEL)")
	audit := registerAuditFlags(fs) // the audit log's checkpoint cadence
	limits := ratelimit.DefaultLimits()
	for _, lf := range limits.Flags() {
		if v := os.Getenv(lf.Env); v != "" {
			if err := lf.Value.Set(v); err != nil {
				return fmt.Errorf("%s: %w", lf.Env, err)
			}
		}
		fs.Var(lf.Value, lf.Name, lf.Usage+" (env "+lf.Env+")")
	}
	ef := registerEmployerFlags(fs) // employer access: API key rates, the verification cache, the trust bundle
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := ef.check(); err != nil {
		return err
	}
	// Validate everything before touching the data directory.
	u, err := url.Parse(f.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("--public-url must be an http(s) URL without query, e.g. https://zs.example.gov.cn, got %q", f.publicURL)
	}
	publicURL := strings.TrimRight(f.publicURL, "/")
	if err := verify.CheckPublicURL(publicURL); err != nil {
		return fmt.Errorf("--public-url: %w", err)
	}
	if err := audit.check(); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return fmt.Errorf("--addr must be host:port, got %q", f.addr)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	// Take the port before creating anything: a server that cannot listen
	// must not make a data directory or spend the one-time admin password.
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (nothing was created): %w", f.addr, err)
	}
	defer ln.Close()

	e, err := openEnv(ctx, f.dataFlags, true)
	if err != nil {
		return err
	}
	defer e.Close()
	if ms, ok := e.store.(interface{ Database() string }); ok {
		logger.Info("using the MongoDB store", "database", ms.Database()) // never the URI: it can hold a password
	}
	if made, err := e.auditedKeys(logger, "system").Ensure(ctx, nowUTC()); err != nil {
		return fmt.Errorf("creating the signing key: %w", err)
	} else if made {
		logger.Info("created the first certificate-signing key")
	}
	// Every server of one registry must open the same sealed keys: a server
	// started with another master key would fail at its first signature.
	if _, err := e.keys().Source()(ctx); err != nil {
		return fmt.Errorf("the stored signing keys do not open with this master key (every server of one registry needs the same SKILLREG_MASTER_KEY): %w", err)
	}
	tokens := verify.NewTokens(e.keys().Source())
	metrics := handlers.NewMetrics()
	reg := registry.New(registry.Config{Store: e.store, Tokens: tokens, Vault: e.vault, Logger: logger, Hooks: metrics.Hooks()})
	if err := assignStatusIndexes(ctx, reg, logger); err != nil {
		return err
	}
	go reg.RunStatsRecovery(ctx, time.Minute) // statistics: finishes counter updates a crash left

	pw, generated := os.Getenv("SKILLREG_ADMIN_PASSWORD"), false
	if pw == "" {
		pw, generated = registry.GeneratePassword(), true
	}
	created, err := reg.EnsureAdmin(ctx, pw)
	if err != nil {
		return fmt.Errorf("creating the admin user: %w", err)
	}
	if created && generated {
		fmt.Fprintf(stderr, "\n  Created user \"admin\" with password: %s\n  It is shown only this once; set SKILLREG_ADMIN_PASSWORD to choose it instead.\n\n", pw)
	}
	if !created && !generated {
		fmt.Fprint(stderr, adminPasswordIgnored(f.dataFlags))
		logger.Warn("SKILLREG_ADMIN_PASSWORD is ignored: the user admin already exists")
	}

	srv := handlers.New(handlers.Config{
		Registry:       reg,
		JWKS:           e.keys().JWKS,
		QRPNG:          verify.QRPNG,
		PublicURL:      publicURL,
		LoginKey:       e.vault.LoginKey(),
		Logger:         logger,
		Metrics:        metrics,
		Limits:         limits,
		SignJSON:       tokens.SignJSON,
		SignCredential: tokens.SignJSONAs,
		Employers:      ef.config(tokens),
	})
	stopCheckpoints := audit.start(ctx, e.store, tokens.SignJSON, logger)
	defer stopCheckpoints()
	err = serveOn(ctx, ln, srv, logger)
	srv.Shutdown() // no upload outlives the process
	return err
}

// adminPasswordIgnored is the warning serve prints when
// SKILLREG_ADMIN_PASSWORD is set but the user admin already exists, so the
// variable changes nothing: it says so and how to reset the password.
func adminPasswordIgnored(d dataFlags) string {
	self := os.Args[0] // as the operator ran it: ./skillreg, /skillreg in the image
	if strings.Contains(self, "go-build") {
		self = "skillreg" // go run's temporary binary
	}
	where := "--data " + shellQuote(d.dataDir)
	if d.mongoURI != "" {
		where = "--mongo-uri URI"
	}
	return "\n  WARNING: SKILLREG_ADMIN_PASSWORD is set but ignored: the user \"admin\" already exists in\n" +
		"  this registry, and its password stays what it was. To make it that password, run\n" +
		"    " + shellQuote(self) + " users reset-password " + where + " admin\n" +
		"  (with SKILLREG_ADMIN_PASSWORD set; the server may keep running),\n" +
		"  or start with another --data directory for a fresh registry.\n\n"
}

// shellQuote quotes s for a POSIX shell when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// serveOn serves on ln until ctx is cancelled (SIGTERM or SIGINT), then
// stops accepting connections and lets in-flight requests finish.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("serving", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}
