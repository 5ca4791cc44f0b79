package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/user"
	"strconv"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// auditedKeys is the signing-key store with every new key recorded in the
// audit log under actor.
func (e *env) auditedKeys(logger *slog.Logger, actor string) verify.KeyStore {
	ks := e.keys()
	rec := registry.New(registry.Config{Store: e.store, Vault: e.vault, Logger: logger})
	ks.Audit = func(ctx context.Context, event string, attrs ...any) { rec.Record(ctx, event, actor, attrs...) }
	return ks
}

// cliActor names the person running a command, for the audit log.
func cliActor() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return "cli:" + u.Username
	}
	return "cli"
}

// cmdAudit runs `skillreg audit verify|checkpoint|reconcile`. Exit codes:
// 0 the log verifies (or the action succeeded), 1 the log has a problem,
// 2 usage or I/O error, 3 (verify) nothing wrong was found but not
// everything was checked.
func cmdAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: skillreg audit verify|checkpoint|reconcile [--data DIR | --mongo-uri URI]")
		return 2
	}
	switch args[0] {
	case "verify", "checkpoint", "reconcile":
	default:
		fmt.Fprintf(stderr, "skillreg audit: unknown command %q (verify, checkpoint or reconcile)\n", args[0])
		return 2
	}
	fs := flag.NewFlagSet("audit "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dataFlags
	d.register(fs)
	coverage := fs.Bool("coverage", true, "verify: also check that every certificate has its certificate.issued entry (and every revoked one its certificate.revoked entry); without it verify says INCOMPLETE")
	grace := fs.Duration("grace", time.Minute, "verify, reconcile: leave out certificates made in the last GRACE (a running server may not have appended their entries yet); verify then says INCOMPLETE if there were any. 0 checks everything: use it when no server is running")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	e, err := openEnv(ctx, d, false)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg audit: %v\n", err)
		return 2
	}
	defer e.Close()
	switch args[0] {
	case "verify":
		return auditVerify(ctx, e, *coverage, *grace, stdout, stderr)
	case "checkpoint":
		tokens := verify.NewTokens(e.keys().Source())
		cp, made, err := (&registry.Checkpointer{Store: e.store, Sign: tokens.SignJSON}).Checkpoint(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "skillreg audit checkpoint: %v\n", err)
			return 2
		}
		what := "signed a new checkpoint"
		if !made {
			what = "nothing new since the latest checkpoint"
		}
		fmt.Fprintf(stdout, "%s: %d entries, head %s, key %s\n", what, cp.Count, cp.HeadHash, cp.KeyID)
		return 0
	default: // reconcile
		return auditReconcile(ctx, e, *grace, stdout, stderr)
	}
}

// checkpointVerifier checks checkpoints against the stored public keys,
// after making sure that each stored key is one this registry made: its
// sealed private half opens with the master key and matches the public
// half. Without that check, whoever can write the database could plant a
// public key of their own and sign checkpoints for a rewritten log.
func checkpointVerifier(ctx context.Context, e *env) (registry.CheckpointVerifier, error) {
	stored, err := e.store.SigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	var keys []verify.Key
	bad := map[string]string{}
	for _, sk := range stored {
		priv, err := e.vault.Open(sk.Sealed)
		switch {
		case err != nil:
			bad[sk.ID] = "its private half does not open with the master key"
		case len(priv) != ed25519.PrivateKeySize || !bytes.Equal(ed25519.PrivateKey(priv).Public().(ed25519.PublicKey), sk.Public):
			bad[sk.ID] = "its public half is not the one of its sealed private half"
		default:
			keys = append(keys, verify.Key{ID: sk.ID, Public: sk.Public})
		}
	}
	return func(ctx context.Context, jws string) (registry.CheckpointPayload, error) {
		p, err := verify.VerifyCheckpoint(keys, jws)
		if err != nil {
			for kid, why := range bad {
				if _, kerr := verify.VerifyCheckpoint([]verify.Key{{ID: kid, Public: keyPublic(stored, kid)}}, jws); kerr == nil {
					return p, fmt.Errorf("signed by stored key %s, but %s (a planted key?)", kid, why)
				}
			}
		}
		return p, err
	}, nil
}

func keyPublic(keys []*registry.SigningKey, kid string) []byte {
	for _, k := range keys {
		if k.ID == kid {
			return k.Public
		}
	}
	return nil
}

func auditVerify(ctx context.Context, e *env, coverage bool, grace time.Duration, stdout, stderr io.Writer) int {
	check, err := checkpointVerifier(ctx, e)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg audit verify: %v\n", err)
		return 2
	}
	rep, err := registry.VerifyAuditLog(ctx, e.store, check)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg audit verify: %v\n", err)
		return 2
	}
	if rep.Problem != nil {
		fmt.Fprintf(stdout, "FIRST BAD ENTRY: seq %d: %s\n", rep.Problem.Seq, rep.Problem.What)
		fmt.Fprintf(stdout, "entries 1 to %d verified before it\n", rep.Entries)
		return 1
	}
	head := "empty log"
	if rep.Head != nil {
		head = fmt.Sprintf("head %d %s", rep.Head.Seq, rep.Head.Hash)
	}
	fmt.Fprintf(stdout, "audit log: %d entries checked, %d signed checkpoints checked, %s\n", rep.Entries, rep.Checkpoints, head)
	if !coverage {
		fmt.Fprintln(stdout, "INCOMPLETE: certificates not compared with the log (--coverage=false)")
		return exitIncomplete
	}
	cov, err := auditCoverage(ctx, e, grace)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg audit verify: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "certificates: %d checked", cov.certificates)
	if cov.recent > 0 {
		fmt.Fprintf(stdout, " (%d made in the last %s not checked)", cov.recent, grace)
	}
	fmt.Fprintln(stdout)
	if n := len(cov.missingIssued) + len(cov.missingRevoked); n > 0 {
		fmt.Fprintf(stdout, "MISSING: %d certificates have no certificate.issued entry, %d revoked ones no certificate.revoked entry: %s\n",
			len(cov.missingIssued), len(cov.missingRevoked), sample(append(cov.missingIssued, cov.missingRevoked...)))
		fmt.Fprintln(stdout, "(the action committed but its entry was not appended: a crash in between, or a failed append; see SECURITY.md; `skillreg audit reconcile` appends them)")
		return 1
	}
	// Never OK while something was left out: right after a crash the
	// certificates of the last minute are exactly the ones that may lack
	// their entries.
	if cov.recent > 0 {
		fmt.Fprintf(stdout, "INCOMPLETE: %d certificates made in the last %s not checked (a running server may not have appended their entries yet); run again later, or with --grace 0 when no server is running\n", cov.recent, grace)
		return exitIncomplete
	}
	fmt.Fprintln(stdout, "OK")
	return 0
}

// exitIncomplete is audit verify's exit code when it found nothing wrong
// but did not check everything.
const exitIncomplete = 3

func sample(numbers []string) string {
	if len(numbers) > 10 {
		return fmt.Sprintf("%v and %d more", numbers[:10], len(numbers)-10)
	}
	return fmt.Sprint(numbers)
}

type auditCoverageReport struct {
	certificates, recent          int
	missingIssued, missingRevoked []string
	certs                         map[string]*registry.Certificate // the missing ones
}

// auditCoverage compares the certificates with the log: each needs a
// certificate.issued entry, and a revoked one a certificate.revoked entry.
// It holds the numbers named by the log in memory: fine for millions of
// entries, not for the national scale, where it would be done per issuer.
func auditCoverage(ctx context.Context, e *env, grace time.Duration) (*auditCoverageReport, error) {
	lister, ok := e.store.(registry.Exporter)
	if !ok {
		return nil, errors.New("this store cannot list all certificates")
	}
	issued, revoked := map[string]bool{}, map[string]bool{}
	for after := int64(0); ; {
		page, err := e.store.AuditEntries(ctx, after, 5000)
		if err != nil {
			return nil, err
		}
		for _, en := range page {
			switch en.Event {
			case "certificate.issued":
				issued[en.Attrs["number"]] = true
			case "certificate.revoked":
				revoked[en.Attrs["number"]] = true
			}
			after = en.Seq
		}
		if len(page) < 5000 {
			break
		}
	}
	cutoff := time.Now().Add(-grace)
	rep := &auditCoverageReport{certs: map[string]*registry.Certificate{}}
	for after := ""; ; {
		page, err := lister.CertificatesAfter(ctx, after, 5000)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			after = c.Number
			if grace > 0 && c.CreatedAt.After(cutoff) {
				rep.recent++
				continue
			}
			rep.certificates++
			if !issued[c.Number] {
				rep.missingIssued = append(rep.missingIssued, c.Number)
				rep.certs[c.Number] = c
			}
			if c.Status == registry.StatusRevoked && !revoked[c.Number] {
				rep.missingRevoked = append(rep.missingRevoked, c.Number)
				rep.certs[c.Number] = c
			}
		}
		if len(page) < 5000 {
			break
		}
	}
	return rep, nil
}

// auditReconcile appends the entries auditCoverage finds missing, marked
// recovered, with the certificate's own times: the log then says plainly
// that they were written late, instead of pretending otherwise.
func auditReconcile(ctx context.Context, e *env, grace time.Duration, stdout, stderr io.Writer) int {
	cov, err := auditCoverage(ctx, e, grace)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg audit reconcile: %v\n", err)
		return 2
	}
	rec := registry.New(registry.Config{Store: e.store, Vault: e.vault, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	actor := cliActor()
	for _, n := range cov.missingIssued {
		c := cov.certs[n]
		if err := rec.RecordErr(ctx, "certificate.issued", actor, "number", c.Number, "issuer", c.IssuerID, "level", int(c.Level), "occupation", c.OccupationCode,
			"recovered", true, "created_at", c.CreatedAt.UTC().Format(time.RFC3339Nano)); err != nil {
			fmt.Fprintf(stderr, "skillreg audit reconcile: %v\n", err)
			return 2
		}
	}
	for _, n := range cov.missingRevoked {
		c := cov.certs[n]
		at := ""
		if c.RevokedAt != nil {
			at = c.RevokedAt.UTC().Format(time.RFC3339Nano)
		}
		if err := rec.RecordErr(ctx, "certificate.revoked", actor, "number", c.Number, "issuer", c.IssuerID, "reason", c.RevokeReason, "recovered", true, "revoked_at", at); err != nil {
			fmt.Fprintf(stderr, "skillreg audit reconcile: %v\n", err)
			return 2
		}
	}
	fmt.Fprintf(stdout, "appended %d certificate.issued and %d certificate.revoked entries marked recovered\n", len(cov.missingIssued), len(cov.missingRevoked))
	return 0
}

// auditFlags are serve's checkpoint settings.
type auditFlags struct {
	every    int64
	interval time.Duration
	envErr   error
}

// check reports a bad environment value or flag, for serve to refuse
// before it starts.
func (a *auditFlags) check() error {
	if a.envErr != nil {
		return a.envErr
	}
	if a.every < 1 || a.interval <= 0 {
		return errors.New("--audit-checkpoint-every must be at least 1 and --audit-checkpoint-interval positive")
	}
	return nil
}

func registerAuditFlags(fs *flag.FlagSet) *auditFlags {
	a := &auditFlags{}
	every, interval := int64(1000), 10*time.Minute
	if v := envOr("SKILLREG_AUDIT_CHECKPOINT_EVERY", ""); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			a.envErr = fmt.Errorf("SKILLREG_AUDIT_CHECKPOINT_EVERY must be a number of entries, got %q", v)
		}
		every = n
	}
	if v := envOr("SKILLREG_AUDIT_CHECKPOINT_INTERVAL", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			a.envErr = fmt.Errorf("SKILLREG_AUDIT_CHECKPOINT_INTERVAL must be a duration such as 10m, got %q", v)
		}
		interval = d
	}
	fs.Int64Var(&a.every, "audit-checkpoint-every", every, "sign an audit checkpoint every N entries (env SKILLREG_AUDIT_CHECKPOINT_EVERY)")
	fs.DurationVar(&a.interval, "audit-checkpoint-interval", interval, "and at least this often while entries arrive (env SKILLREG_AUDIT_CHECKPOINT_INTERVAL)")
	return a
}

// start runs the checkpointer until the returned function is called;
// that function also signs a last checkpoint of whatever is new, so that
// a clean shutdown leaves the whole log covered.
func (a *auditFlags) start(ctx context.Context, st registry.Store, sign registry.SignFunc, logger *slog.Logger) func() {
	cpr := &registry.Checkpointer{Store: st, Sign: sign, Every: max(a.every, 1), Interval: a.interval, Logger: logger}
	poll := min(max(a.interval/10, 100*time.Millisecond), 2*time.Second)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); cpr.Run(runCtx, poll) }()
	return func() {
		cancel()
		<-done
		fctx, fcancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer fcancel()
		if cp, made, err := cpr.Checkpoint(fctx); err != nil && registry.ErrorCode(err) != registry.ENOTFOUND {
			logger.Error("audit.checkpoint_failed", "err", err)
		} else if made {
			logger.Info("audit.checkpoint", "count", cp.Count, "head_hash", cp.HeadHash, "kid", cp.KeyID)
		}
	}
}
