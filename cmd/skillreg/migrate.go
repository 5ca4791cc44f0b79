package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/mongo"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/registry/stats"
)

// migrationKinds are the record kinds a migration copies and checks, in
// the order it copies them: certificates before serials, so that the
// target's serial hints never name a certificate it does not hold yet.
var migrationKinds = []string{"issuers", "users", "signing_keys", "certificates", "external_refs", "serials", "training_records", "api_keys", "plans"}

// cmdMigrate copies one store into another: the embedded store (a data
// directory) or MongoDB (a mongodb:// URI) on either side. Every record is
// inserted only if missing (and checked equal if present), so the command
// can be stopped at any point and run again: the next run copies what is
// missing and nothing twice. That also makes a short cut-over possible:
// migrate while the old server runs, stop it, migrate again to copy the
// rest.
func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the store to copy: a data directory of the embedded store, or a mongodb:// URI (required)")
	to := fs.String("to", envOr("SKILLREG_MONGO_URI", ""), "the store to copy into: a data directory or a mongodb:// URI with the database in the path (env SKILLREG_MONGO_URI; required)")
	batch := fs.Int("batch", 1000, "certificates per bulk insert")
	buildStats := fs.Bool("stats", true, "build the target's statistics counters from the copied certificates at the end (false: leave them to a later run or to skillreg stats check --repair, e.g. on a first pass while the old server still runs)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	case *from == "":
		return errors.New("--from DIR|URI is required: the data directory of the embedded store, or mongodb://host:port/database")
	case *to == "":
		return errors.New("--to DIR|URI is required: a data directory, or mongodb://host:port/database")
	case *from == *to:
		return errors.New("--from and --to name the same store")
	case *batch < 1 || *batch > 100_000:
		return fmt.Errorf("--batch must be 1 to 100000, got %d", *batch)
	}
	src, err := openMigrationStore(ctx, *from, true)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := openMigrationStore(ctx, *to, false)
	if err != nil {
		return err
	}
	defer dst.Close()
	source, ok := src.(migrationSource)
	if !ok {
		return fmt.Errorf("the store at --from cannot be read whole (it has no registry.Exporter)")
	}
	target, ok := dst.(migrationTarget)
	if !ok {
		return fmt.Errorf("the store at --to cannot take copied records (it has no registry.Restorer)")
	}
	m := &migration{src: source, dst: target, batch: *batch, buildStats: *buildStats, progress: newProgress(stderr)}
	if err := m.run(ctx, stdout); err != nil {
		return err
	}
	if !isMongoURI(*to) {
		fmt.Fprintf(stdout, "the copied signing keys are sealed with the source's master key: give the target it too (%s, or SKILLREG_MASTER_KEY)\n", filepath.Join(*to, "master.key"))
	}
	return nil
}

// isMongoURI reports whether a --from or --to value names MongoDB rather
// than a data directory.
func isMongoURI(s string) bool {
	return strings.HasPrefix(s, "mongodb://") || strings.HasPrefix(s, "mongodb+srv://")
}

// openMigrationStore opens the store that loc names: MongoDB for a
// mongodb:// URI, else the embedded store in the data directory loc,
// which must hold one already if mustExist.
func openMigrationStore(ctx context.Context, loc string, mustExist bool) (registry.Store, error) {
	if isMongoURI(loc) {
		st, err := mongo.Open(ctx, loc)
		if err != nil {
			return nil, fmt.Errorf("opening the MongoDB store: %w", err)
		}
		return st, nil
	}
	path := filepath.Join(loc, "skillreg.db")
	if mustExist {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no embedded store at %s: %w", path, err)
		}
	}
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	return st, nil
}

// migrationSource is a store that can be read whole.
type migrationSource interface {
	registry.Store
	registry.Exporter
}

// migrationTarget is a store that takes copied records as they are.
type migrationTarget interface {
	registry.Store
	registry.Exporter
	registry.Restorer
}

// migration copies one store into another.
type migration struct {
	src   migrationSource
	dst   migrationTarget
	batch int
	// buildStats builds the target's statistics counters after the copy.
	buildStats bool
	progress   *progress
	copied     map[string]int // per kind, this run
	// lastSerial is the highest serial among the certificates copied,
	// per number prefix.
	lastSerial map[string]int
}

func (m *migration) run(ctx context.Context, stdout io.Writer) error {
	m.copied = map[string]int{}
	m.lastSerial = map[string]int{}
	before, err := m.src.Counts(ctx)
	if err != nil {
		return err
	}

	issuers, err := m.src.Issuers(ctx)
	if err != nil {
		return err
	}
	if m.copied["issuers"], err = m.dst.ImportIssuers(ctx, issuers); err != nil {
		return fmt.Errorf("issuers: %w", err)
	}
	m.progress.line("issuers: %d, copied %d", len(issuers), m.copied["issuers"])

	users, err := m.src.Users(ctx)
	if err != nil {
		return err
	}
	updated, err := m.updateUsers(ctx, users) // migrate_records.go
	if err != nil {
		return fmt.Errorf("users: %w", err)
	}
	if m.copied["users"], err = m.dst.ImportUsers(ctx, users); err != nil {
		return fmt.Errorf("users: %w (migrate into a database no server has run on yet)", err)
	}
	m.progress.line("users: %d, copied %d, updated %d", len(users), m.copied["users"], updated)

	keys, err := m.src.SigningKeys(ctx)
	if err != nil {
		return err
	}
	if m.copied["signing_keys"], err = m.dst.ImportSigningKeys(ctx, keys); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	m.progress.line("signing keys: %d, copied %d (still sealed: servers on the target need the source's master key)", len(keys), m.copied["signing_keys"])

	if err := m.certificates(ctx, int(before["certificates"])); err != nil {
		return err
	}

	serials, err := m.src.Serials(ctx)
	if err != nil {
		return err
	}
	// A source's serial counter may lag its certificates (MongoDB's is a
	// hint that writers walk past); the target's must not, or its next
	// issuance would collide with a copied certificate.
	for prefix, last := range m.lastSerial {
		serials[prefix] = max(serials[prefix], last)
	}
	if err := m.dst.ImportSerials(ctx, serials); err != nil {
		return err
	}
	m.progress.line("serials: %d prefixes", len(serials))

	for _, step := range []func(context.Context) error{m.trainingRecords, m.apiKeys, m.plans} { // migrate_records.go
		if err := step(ctx); err != nil {
			return err
		}
	}
	if err := m.auditLog(ctx); err != nil { // migrate_audit.go
		return err
	}
	if m.buildStats {
		if err := m.statistics(ctx); err != nil {
			return err
		}
	} else {
		m.progress.line("statistics: counters not built (--stats=false); run migrate again or skillreg stats check --repair on the target")
	}
	return m.check(ctx, stdout)
}

// statistics builds the target's statistics counters from the copied
// certificates, as `skillreg stats check --repair` would: counters are
// derived from the certificates, so they are rebuilt rather than copied
// (a copy taken while a server counts could hold half an update). On a
// target that already has counters, only their differences are written.
func (m *migration) statistics(ctx context.Context) error {
	start := time.Now()
	reg := registry.New(registry.Config{Store: m.dst, Logger: slog.New(slog.DiscardHandler)})
	res, err := reg.CheckStats(ctx, stats.CheckOptions{Repair: true})
	if err != nil {
		return fmt.Errorf("building the target's statistics counters: %w (run skillreg stats check --repair on the target)", err)
	}
	m.progress.line("statistics: counters built from %d certificates of %d holders in %.1f s (%d counters corrected)",
		res.Certificates, res.Holders, time.Since(start).Seconds(), len(res.CellDiffs))
	return nil
}

// certificates copies every certificate in number order, one bulk insert
// per batch.
func (m *migration) certificates(ctx context.Context, total int) error {
	seen, after := 0, ""
	start := time.Now()
	for {
		list, err := m.src.CertificatesAfter(ctx, after, m.batch)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			break
		}
		n, err := m.dst.ImportCertificates(ctx, list)
		if err != nil {
			return fmt.Errorf("certificates after %s: %w", after, err)
		}
		m.copied["certificates"] += n
		for _, c := range list {
			if info, err := registry.ParseNumber(c.Number); err == nil && !info.Legacy {
				prefix := c.Number[:len(c.Number)-6]
				m.lastSerial[prefix] = max(m.lastSerial[prefix], info.Serial)
			}
		}
		seen += len(list)
		after = list[len(list)-1].Number
		m.progress.bar("certificates", seen, total)
	}
	m.progress.line("certificates: %d, copied %d, in %.1f s", seen, m.copied["certificates"], time.Since(start).Seconds())
	return nil
}

// check compares the record counts of both stores, kind by kind.
func (m *migration) check(ctx context.Context, stdout io.Writer) error {
	src, err := m.src.Counts(ctx)
	if err != nil {
		return err
	}
	dst, err := m.dst.Counts(ctx)
	if err != nil {
		return err
	}
	var bad []string
	fmt.Fprintf(stdout, "%-16s %12s %12s %12s\n", "collection", "source", "target", "copied now")
	for _, k := range migrationKinds {
		mark := "ok"
		if src[k] != dst[k] {
			mark = "MISMATCH"
			bad = append(bad, k)
		}
		copied := fmt.Sprint(m.copied[k])
		if k == "external_refs" || k == "serials" {
			copied = "-" // written along with certificates, or raised in place
		}
		fmt.Fprintf(stdout, "%-16s %12d %12d %12s  %s\n", k, src[k], dst[k], copied, mark)
	}
	if len(bad) > 0 {
		return registry.Errorf(registry.ECONFLICT, "counts differ for %s: was the source written to during the copy (run migrate again), or did the target hold other records?", strings.Join(bad, ", "))
	}
	return nil
}

// progress reports on stderr: a bar redrawn in place on a terminal, and
// a line per 10 % otherwise (a log file should not get a line per batch).
type progress struct {
	w        io.Writer
	terminal bool
	lastTen  int
	open     bool // a bar is drawn without its newline yet
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w, lastTen: -1}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

func (p *progress) line(format string, args ...any) {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}

func (p *progress) bar(what string, done, total int) {
	pct := 100
	if total > 0 {
		pct = min(100, done*100/total)
	}
	if p.terminal {
		const width = 30
		filled := pct * width / 100
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d %3d%%", what, strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, pct)
		p.open = true
		return
	}
	if ten := pct / 10; ten != p.lastTen {
		p.lastTen = ten
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", what, done, total, pct)
	}
}
