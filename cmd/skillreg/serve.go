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

// serveConfig is serve's configuration, parsed and checked before
// anything is created.
type serveConfig struct {
	serveFlags
	audit     *auditFlags
	limits    ratelimit.Limits
	employers *employerFlags
	publicURL string // without a trailing slash
	logger    *slog.Logger
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := cfg.logger

	// Take the port before creating anything: a server that cannot listen
	// must not make a data directory or spend the one-time admin password.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (nothing was created): %w", cfg.addr, err)
	}
	defer ln.Close()

	e, err := openEnv(ctx, cfg.dataFlags, true)
	if err != nil {
		return err
	}
	defer e.Close()
	if ms, ok := e.store.(interface{ Database() string }); ok {
		logger.Info("using the MongoDB store", "database", ms.Database()) // never the URI: it can hold a password
	}
	if err := ensureSigningKeys(ctx, e, logger); err != nil {
		return err
	}
	tokens := verify.NewTokens(e.keys().Source())
	metrics := handlers.NewMetrics()
	reg := registry.New(registry.Config{Store: e.store, Tokens: tokens, Vault: e.vault, Logger: logger, Hooks: metrics.Hooks()})
	if err := assignStatusIndexes(ctx, reg, logger); err != nil {
		return err
	}
	go reg.RunStatsRecovery(ctx, time.Minute) // statistics: finishes counter updates a crash left

	if err := ensureAdminUser(ctx, reg, cfg.dataFlags, stderr, logger); err != nil {
		return err
	}

	srv := handlers.New(handlers.Config{
		Registry:       reg,
		JWKS:           e.keys().JWKS,
		QRPNG:          verify.QRPNG,
		PublicURL:      cfg.publicURL,
		LoginKey:       e.vault.LoginKey(),
		Logger:         logger,
		Metrics:        metrics,
		Limits:         cfg.limits,
		SignJSON:       tokens.SignJSON,
		SignCredential: tokens.SignJSONAs,
		Employers:      cfg.employers.config(tokens),
	})
	stopCheckpoints := cfg.audit.start(ctx, e.store, tokens.SignJSON, logger)
	defer stopCheckpoints()
	err = serveOn(ctx, ln, srv, logger, defaultTimeouts)
	srv.Shutdown() // no upload outlives the process
	return err
}

// parseServeFlags reads serve's flags (each with its environment
// fallback) and validates every one of them, touching nothing on disk.
func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &serveConfig{}
	f := &cfg.serveFlags
	f.register(fs)
	fs.StringVar(&f.addr, "addr", envOr("SKILLREG_ADDR", "127.0.0.1:8080"), "listen address (env SKILLREG_ADDR)")
	fs.StringVar(&f.publicURL, "public-url", envOr("SKILLREG_PUBLIC_URL", "http://127.0.0.1:8080"), "base URL put into QR codes (env SKILLREG_PUBLIC_URL)")
	fs.StringVar(&f.logLevel, "log-level", envOr("SKILLREG_LOG_LEVEL", "info"), "debug, info, warn or error (env SKILLREG_LOG_LEVEL)")
	cfg.audit = registerAuditFlags(fs) // the audit log's checkpoint cadence
	cfg.limits = ratelimit.DefaultLimits()
	for _, lf := range cfg.limits.Flags() {
		if v := os.Getenv(lf.Env); v != "" {
			if err := lf.Value.Set(v); err != nil {
				return nil, fmt.Errorf("%s: %w", lf.Env, err)
			}
		}
		fs.Var(lf.Value, lf.Name, lf.Usage+" (env "+lf.Env+")")
	}
	cfg.employers = registerEmployerFlags(fs) // employer access: API key rates, the verification cache, the trust bundle
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := cfg.employers.check(); err != nil {
		return nil, err
	}
	u, err := url.Parse(f.publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--public-url must be an http(s) URL without query, e.g. https://zs.example.gov.cn, got %q", f.publicURL)
	}
	cfg.publicURL = strings.TrimRight(f.publicURL, "/")
	if err := verify.CheckPublicURL(cfg.publicURL); err != nil {
		return nil, fmt.Errorf("--public-url: %w", err)
	}
	if err := cfg.audit.check(); err != nil {
		return nil, err
	}
	if _, _, err := net.SplitHostPort(f.addr); err != nil {
		return nil, fmt.Errorf("--addr must be host:port, got %q", f.addr)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	cfg.logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return cfg, nil
}

// ensureSigningKeys creates the first signing key if there is none and
// checks that the stored keys open with this server's master key.
func ensureSigningKeys(ctx context.Context, e *env, logger *slog.Logger) error {
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
	return nil
}

// ensureAdminUser creates the user admin on first start, with
// SKILLREG_ADMIN_PASSWORD or a generated password shown once, and warns
// when the variable is set but admin already exists.
func ensureAdminUser(ctx context.Context, reg *registry.Registry, d dataFlags, stderr io.Writer, logger *slog.Logger) error {
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
		fmt.Fprint(stderr, adminPasswordIgnored(d))
		logger.Warn("SKILLREG_ADMIN_PASSWORD is ignored: the user admin already exists")
	}
	return nil
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

// serverTimeouts are the limits serve puts on a connection.
type serverTimeouts struct {
	readHeader time.Duration // to read a request's headers
	read       time.Duration // to read a whole request, body included (the upload route extends its own)
	idle       time.Duration // between requests on a kept-alive connection
	// writeStall is how long a piece of a response may take to reach
	// the client. It bounds a client that stops reading, not the
	// handler: a response may take as long as its handler needs.
	writeStall time.Duration
}

// defaultTimeouts are serve's timeouts.
var defaultTimeouts = serverTimeouts{
	readHeader: 10 * time.Second,
	read:       60 * time.Second,
	idle:       120 * time.Second,
	writeStall: 60 * time.Second,
}

// serveOn serves on ln until ctx is cancelled (SIGTERM or SIGINT), then
// stops accepting connections and lets in-flight requests finish.
//
// There is no http.Server WriteTimeout: it runs from the end of the
// request's headers, so it would cut every response whose handler takes
// longer (a slow store under load, a large export), and the client would
// get no answer at all, only the connection closed. Instead each write of
// a response must make progress within to.writeStall (stallWriter).
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger, to serverTimeouts) error {
	hs := &http.Server{
		Handler:           writeProgress(h, to.writeStall),
		ReadHeaderTimeout: to.readHeader,
		ReadTimeout:       to.read,
		IdleTimeout:       to.idle,
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

// writeProgress gives h's responses a write deadline that moves with
// progress: none while the handler works, then stall for each piece
// written (stallWriter), and stall again for the final flush after the
// handler returns.
func writeProgress(h http.Handler, stall time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		// A connection keeps its deadline from the previous request:
		// clear it, so that nothing written before the handler's first
		// write (a 100 Continue) meets an old deadline.
		_ = rc.SetWriteDeadline(time.Time{})
		defer func() { _ = rc.SetWriteDeadline(time.Now().Add(stall)) }()
		h.ServeHTTP(&stallWriter{ResponseWriter: w, rc: rc, stall: stall}, r)
	})
}

// stallChunk is the most a stallWriter hands to the connection under one
// deadline: a large write is cut into pieces, each given the full stall
// time, so that a slow client that keeps reading is never cut off.
const stallChunk = 64 << 10

// stallWriter is a response writer that sets the connection's write
// deadline to stall from now before each piece it writes and before a
// flush. A client that stops reading makes a write fail after stall.
type stallWriter struct {
	http.ResponseWriter
	rc    *http.ResponseController
	stall time.Duration
}

func (w *stallWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), stallChunk)]
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.stall))
		m, err := w.ResponseWriter.Write(piece)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// FlushError flushes under a fresh deadline (http.ResponseController
// calls it).
func (w *stallWriter) FlushError() error {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.stall))
	return w.rc.Flush()
}

// Flush is http.Flusher, for code that asserts it.
func (w *stallWriter) Flush() { _ = w.FlushError() }

// Unwrap lets http.ResponseController reach the connection's writer (a
// route that sets its own deadlines, a hijack).
func (w *stallWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
