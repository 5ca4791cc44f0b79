package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
	"github.com/skillreg/skillreg/verify"
)

// importDirect imports file straight into the registry of a data directory
// (or MongoDB), with no server. It runs the very importer.Manager the
// server runs, as a user of the issuing organisation, so that the rows are
// checked and written exactly as by an upload; only the audit trail
// differs: the actor is "cli:<login name>", and the audit events go to
// import-audit.jsonl in the data directory instead of the server's log.
//
// The acting organisation is --issuer, which must exist; without it, the
// registry's only organisation (a registry with several needs --issuer, so
// that a certificate is never issued in the wrong organisation's name).
func importDirect(ctx context.Context, file string, d dataFlags, issuerID string, opts importer.Options, reportPath string, interval time.Duration, stdout, stderr io.Writer) int {
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(stderr, "skillreg import: "+format+"\n", args...)
		return code
	}
	in, err := os.Open(file)
	if err != nil {
		return fail(2, "%v", err)
	}
	defer in.Close()
	e, err := openEnv(ctx, d, false)
	if err != nil {
		return fail(2, "%v", err)
	}
	defer e.Close()
	logFile, err := os.OpenFile(filepath.Join(d.dataDir, "import-audit.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(2, "audit log: %v", err)
	}
	defer logFile.Close()
	logger := slog.New(slog.NewJSONHandler(logFile, nil))
	if _, err := e.keys().Source()(ctx); err != nil {
		return fail(2, "the registry has no usable signing key (start the server once on this data directory): %v", err)
	}
	reg := registry.New(registry.Config{Store: e.store, Tokens: verify.NewTokens(e.keys().Source()), Vault: e.vault, Logger: logger})

	is, err := actingIssuer(ctx, e.store, issuerID)
	if err != nil {
		return fail(2, "%v", err)
	}
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	}
	actor := &registry.User{ID: name, Username: name, Role: registry.RoleIssuer, IssuerID: is.ID}

	tmp, err := os.MkdirTemp("", "skillreg-import-cli-")
	if err != nil {
		return fail(2, "%v", err)
	}
	defer os.RemoveAll(tmp)
	m := importer.NewManager(reg, importer.ManagerConfig{Dir: tmp, Logger: logger, Concurrency: 1})
	job, err := m.Start(actor, filepath.Base(file), in, opts)
	if err != nil {
		return fail(2, "%s", registry.ErrorMessage(err))
	}
	fmt.Fprintf(stderr, "importing into %s as %s (%s)\n", is.ID, is.Name, name)
	bar := newProgressBar(stderr)
	for done := false; !done; {
		select {
		case <-job.Done():
			done = true
		case <-ctx.Done():
			// The process ends mid-import: every row written so far is
			// complete (each is one durable write), and running the same
			// command again skips them and finishes.
			bar.done()
			return fail(1, "interrupted; run the same command again to finish")
		case <-time.After(interval):
		}
		st := jobView(job.Status())
		bar.show(&st)
	}
	bar.done()
	defer m.Close()
	st := jobView(job.Status())
	var bad []importProblem
	rows, total, err := job.Rows(0, maxListedRows, true)
	if err != nil {
		return fail(2, "%v", err)
	}
	for _, r := range rows {
		for _, p := range r.Errors {
			bad = append(bad, importProblem{Row: p.Row, Column: p.Column, Message: p.Message, MessageEN: p.MessageEN})
		}
	}
	printSummary(stdout, &st, bad, total > len(rows))
	if reportPath != "" {
		f, err := os.Create(reportPath)
		if err != nil {
			return fail(2, "report: %v", err)
		}
		if err := job.WriteReport(f); err != nil {
			f.Close()
			return fail(2, "report: %v", err)
		}
		if err := f.Close(); err != nil {
			return fail(2, "report: %v", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", reportPath)
	}
	if st.Status != importer.JobDone || st.Errors > 0 {
		return 1
	}
	return 0
}

// actingIssuer returns the issuer named id, or the registry's only one
// when id is empty.
func actingIssuer(ctx context.Context, st registry.Store, id string) (*registry.Issuer, error) {
	if id != "" {
		is, err := st.Issuer(ctx, id)
		if registry.ErrorCode(err) == registry.ENOTFOUND {
			return nil, fmt.Errorf("--issuer %s: no such issuing organisation in this registry", id)
		}
		return is, err
	}
	all, err := st.Issuers(ctx)
	if err != nil {
		return nil, err
	}
	switch len(all) {
	case 0:
		return nil, fmt.Errorf("the registry has no issuing organisation yet (register one with POST /api/v1/issuers)")
	case 1:
		return all[0], nil
	}
	ids := make([]string, len(all))
	for i, is := range all {
		ids[i] = is.ID
	}
	return nil, fmt.Errorf("the registry has %d issuing organisations; choose one with --issuer (%s)", len(all), strings.Join(ids, ", "))
}

// jobView turns a job's status into what the summary and the progress bar
// print, as for a server's job.
func jobView(s importer.JobStatus) importJob {
	j := importJob{ID: s.ID, Status: s.Status, FileName: s.FileName, Format: string(s.Format), Encoding: s.Encoding, SHA256: s.SHA256,
		DryRun: s.DryRun, AllOrNothing: s.AllOrNothing, Kind: s.Kind, SampleNames: s.SampleNames, Counts: s.Counts, Error: s.Error}
	for _, p := range s.FileErrors {
		j.FileErrors = append(j.FileErrors, importProblem{Row: p.Row, Column: p.Column, Message: p.Message, MessageEN: p.MessageEN})
	}
	return j
}
