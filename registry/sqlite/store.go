// Package sqlite is the embedded registry.Store on modernc.org/sqlite (pure
// Go, no cgo), the default for a single-binary registry.
//
// A Store holds two connection pools on one database file. Writes go
// through a pool of exactly one connection whose transactions start with
// BEGIN IMMEDIATE, so writers of this process queue in Go instead of
// failing with SQLITE_BUSY, and writers of other processes wait on the
// busy timeout. Reads use a separate pool and, thanks to WAL, never wait
// for a writer. Every connection of both pools gets the same pragmas from
// the DSN: WAL journal, synchronous=FULL (a commit is acknowledged only
// once it is on disk, including a crash of the machine), foreign keys and
// a busy timeout.
//
// All SQL of the registry lives in this package; driver errors become
// *registry.Error values here, at the edge.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/skillreg/skillreg/registry"
)

// The store and the capabilities it has (registry/capabilities.go).
var (
	_ registry.Store                     = (*Store)(nil)
	_ registry.Exporter                  = (*Store)(nil)
	_ registry.CertificateImporter       = (*Store)(nil)
	_ registry.Restorer                  = (*Store)(nil)
	_ registry.FileBackuper              = (*Store)(nil)
	_ registry.AuditedCertificateCreator = (*Store)(nil)
	_ registry.VerificationReader        = (*Store)(nil)
)

// BusyTimeout is how long a connection waits for a lock held by another
// process before SQLite gives up with SQLITE_BUSY. Within one process
// writers never reach it: they queue for the single write connection.
const BusyTimeout = 10 * time.Second

// Store is a registry.Store in one SQLite database file.
type Store struct {
	path  string
	write *sql.DB // one connection, BEGIN IMMEDIATE
	read  *sql.DB // many connections, read-only
	// verification reads the verification record on connections of its
	// own, opened as read's are (rawread.go).
	verification *rawReader
	stmts        sync.Map    // query -> *sql.Stmt on read: the hot reads (prepared.go)
	bulk         atomic.Bool // set during BulkLoad: the write connection runs at synchronous=OFF
	// writeStmts are issuance's statements on write, prepared by Open and
	// only read after (prepared.go).
	writeStmts map[string]*sql.Stmt
	// journal, during a BulkLoad, holds the statistics ops, markers and
	// deltas in memory (stats_journal.go).
	journal atomic.Pointer[bulkJournal]
}

// Open opens the database at path, creating it and its parent directory if
// missing, and brings its schema up to date. path is a file name, not a
// URI; ":memory:" is refused because the two pools would see two different
// databases.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") || strings.ContainsRune(path, '?') {
		return nil, registry.Errorf(registry.EINVALID, "sqlite: %q is not a database file path", path)
	}
	if err := makePrivateDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("sqlite: create directory for %s: %w", path, err)
	}
	if err := makePrivateFiles(path); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}

	s := &Store{path: path}
	var err error
	// The write pool opens and migrates first: it is the one connection
	// allowed to switch the file to WAL and create tables, so the read pool,
	// which is query_only, finds both done.
	s.write, err = sql.Open("sqlite", dsn(path, url.Values{"_txlock": {"immediate"}}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)
	if err := migrate(ctx, s.write); err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	s.prepareWrites(ctx)

	s.read, err = sql.Open("sqlite", dsn(path, url.Values{"_query_only": {"1"}}))
	if err != nil {
		s.write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := readConns(runtime.NumCPU())
	s.verification = newRawReader(dsn(path, url.Values{"_query_only": {"1"}, "_pragma": {verificationMmap}}), verificationQuery, n)
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	if err := s.read.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// The database holds personal data (names in clear, ID numbers sealed):
// it is readable by its owner only. SQLite gives the -wal and -shm files
// the mode of the database file itself, whatever the umask.
const (
	privateDirMode  = 0o700
	privateFileMode = 0o600
)

// makePrivateDir creates dir, owner-only, if it does not exist. An
// existing directory is left as it is: it may be a shared parent such as
// a backup volume (the data directory itself is tightened by its owner,
// cmd/skillreg).
func makePrivateDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, privateDirMode); err != nil {
		return err
	}
	return os.Chmod(dir, privateDirMode) // MkdirAll's mode is filtered by the umask
}

// makePrivateFiles creates the database file owner-only if it is missing
// (so that SQLite, which keeps the mode of an existing file, never makes
// it world-readable) and tightens an existing one and its -wal and -shm
// files to owner-only.
func makePrivateFiles(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, privateFileMode)
	switch {
	case err == nil:
		if err := errors.Join(f.Chmod(privateFileMode), f.Close()); err != nil {
			return err
		}
	case !errors.Is(err, os.ErrExist):
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm() != privateFileMode {
			if err := os.Chmod(p, privateFileMode); err != nil {
				return fmt.Errorf("making %s owner-only: %w", p, err)
			}
		}
	}
	return nil
}

// dsn builds the data source name; extra adds parameters (pragmas to the
// common ones). The pragmas travel in it, and not as
// statements run after Open, because database/sql opens connections
// whenever it likes: only the DSN reaches every one of them.
func dsn(path string, extra url.Values) string {
	q := url.Values{"_pragma": {
		fmt.Sprintf("busy_timeout(%d)", BusyTimeout.Milliseconds()),
		"foreign_keys(1)",
		"journal_mode(WAL)",
		"synchronous(FULL)",
	}}
	for k, v := range extra {
		q[k] = append(q[k], v...)
	}
	return path + "?" + q.Encode()
}

// verificationMmap lets the verification connections read the database
// file through a memory map (as much of it as SQLite allows, 2 GiB less
// 64 KiB), so that a certificate's pages, read at random from a large
// store, cost neither a read system call nor a place in the connection's
// own page cache, which made verifications over 1,000,000 certificates
// 17 % slower than over 10,000 (BENCHMARKS.md). Pages still in the
// write-ahead log are read as before. SQLite never writes through the map
// and remaps when another connection changes the file; the registry never
// shrinks the file (no VACUUM, no auto_vacuum). What a map cannot do is
// report a failing disk as an error: a read error of a mapped page stops
// the process instead.
const verificationMmap = "mmap_size(2147418112)"

// readConns is the size of the read pool, and the most verification
// connections, on a machine of cpus cores.
// SQLite's readers in WAL mode do not wait for each other, and a read
// connection costs a few file descriptors and its page cache (up to 2 MiB,
// filled only as pages are read). The pool is several times the cores so
// that requests seldom queue for a connection: with 4 on 2 cores, 64
// concurrent verifications left the processor idle for about a fifth of
// their time while a returned connection was handed to a waiting request
// (BENCHMARKS.md).
func readConns(cpus int) int {
	return max(16, 8*cpus)
}

// Close releases the pools and the verification connections. In-flight
// calls finish first.
func (s *Store) Close() error {
	s.verification.close()
	return errors.Join(s.read.Close(), s.write.Close())
}

// Ping checks that both pools can reach the database file.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_version`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Backup writes a consistent copy of the database to destPath with VACUUM
// INTO while the store keeps serving: it reads one snapshot on a connection
// of its own, so writers are not blocked and the copy contains exactly the
// transactions committed before it started. The copy is compacted and is
// an ordinary SQLite file that Open accepts. destPath must not exist yet
// (SQLite refuses to overwrite); its directory is created if missing.
func (s *Store) Backup(ctx context.Context, destPath string) error {
	if destPath == "" {
		return registry.Errorf(registry.EINVALID, "sqlite: backup needs a destination path")
	}
	if _, err := os.Lstat(destPath); err == nil {
		return registry.Errorf(registry.ECONFLICT, "backup destination %s already exists", destPath)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := makePrivateDir(filepath.Dir(destPath)); err != nil {
		return fmt.Errorf("sqlite: backup: create directory: %w", err)
	}
	// VACUUM INTO writes into an empty file that exists and keeps its
	// mode: made here, owner-only whatever the umask.
	out, err := os.OpenFile(destPath, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := errors.Join(out.Chmod(0o600), out.Close()); err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	// Not on the read pool: its connections are query_only, which SQLite
	// applies to VACUUM INTO as well, though only the copy is written.
	db, err := sql.Open("sqlite", dsn(s.path, nil))
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, destPath); err != nil {
		return fmt.Errorf("sqlite: backup to %s: %w", destPath, err)
	}
	return db.Close()
}

// Time is stored as fixed-width UTC text with nanoseconds: it reads well in
// the sqlite3 shell, sorts as text in time order (unlike RFC3339Nano, which
// drops trailing zeros) and round-trips exactly, zero time included.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: stored time %q: %w", s, err)
	}
	return t, nil
}

// sqliteCode returns the extended result code of a driver error, or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	c := sqliteCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// isForeignKey reports whether err is a FOREIGN KEY violation.
func isForeignKey(err error) bool {
	return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// internal wraps an unexpected driver error with what the store was doing;
// registry.ErrorCode reports it as EINTERNAL, or as EUNAVAILABLE when the
// storage refuses writes (see unavailable).
func internal(err error, format string, args ...any) error {
	err = fmt.Errorf("sqlite: %s: %w", fmt.Sprintf(format, args...), err)
	if unavailable(err) {
		return registry.Unavailable(err)
	}
	return err
}

// unavailable reports whether err says that the storage refuses writes:
// the disk or the database's page limit is full (SQLITE_FULL), the file
// or its directory is read-only (SQLITE_READONLY, SQLITE_CANTOPEN), or
// the disk fails (SQLITE_IOERR). Each can pass without a restart once
// space or write access returns.
func unavailable(err error) bool {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR:
		return true
	}
	return false
}

// escapeLike escapes the LIKE wildcards of s for use with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// rollback ends a transaction that did not commit. Its error is dropped on
// purpose: the caller already returns the error that made it roll back, and
// a rollback after a successful Commit is a harmless no-op.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }
