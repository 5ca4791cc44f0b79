package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
)

// fileBackupSource is a store that can copy itself to a file and count
// its records (the embedded store).
type fileBackupSource interface {
	registry.Exporter
	registry.FileBackuper
}

// mongoBackupAdvice is what backup says for a MongoDB store, which it
// does not copy: the database's own tools do that consistently and
// without stopping the servers.
const mongoBackupAdvice = `backup writes a file copy of the embedded store only; it does not back up MongoDB. For a MongoDB store use:
  mongodump --uri <the same URI> --oplog --gzip --archive=FILE   (a replica set; restore with mongorestore --oplogReplay --gzip --archive=FILE)
  or, on a sharded cluster, its consistent snapshots (Atlas backups, or volume snapshots of every shard and the config servers);
  or copy it into an embedded store with: skillreg migrate --from <URI> --to DIR
Keep the master key (SKILLREG_MASTER_KEY) with any backup: the signing keys in it are sealed with it.`

// cmdBackup writes an online, consistent copy of the embedded store to a
// file (safe while the server runs) and proves it by opening the copy and
// counting its records.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dataFlags
	d.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: skillreg backup [--data DIR] DEST-FILE")
	}
	dest := fs.Arg(0)
	if d.mongoURI != "" {
		return errors.New(mongoBackupAdvice)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("%s exists; choose a new file", dest)
	}
	e, err := openEnv(ctx, d, false)
	if err != nil {
		return err
	}
	defer e.Close()
	// Counted before the copy: while a server writes, the copy may hold
	// more, never less.
	src, ok := e.store.(fileBackupSource)
	if !ok {
		return errors.New("this store cannot be copied to a file (it has no registry.FileBackuper)")
	}
	orig, err := src.Counts(ctx)
	if err != nil {
		return err
	}
	if err := src.Backup(ctx, dest); err != nil {
		return err
	}
	copyStore, err := sqlite.Open(ctx, dest)
	if err != nil {
		return fmt.Errorf("the backup %s does not open: %w", dest, err)
	}
	defer copyStore.Close()
	got, err := copyStore.Counts(ctx)
	if err != nil {
		return fmt.Errorf("reading the backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup written to %s and verified by opening it; it holds:\n%s", dest, countsSummary(got))
	for k, n := range got {
		if n < orig[k] {
			return fmt.Errorf("the backup has %d %s, the store %d", n, k, orig[k])
		}
	}
	fmt.Fprintf(stdout, "restore: stop the server, keep master.key, and copy %s to <data dir>/skillreg.db (removing skillreg.db-wal and -shm)\n", dest)
	return nil
}

// countLabels names the store's record counts for people, in the order a
// summary lists them.
var countLabels = []struct{ key, label string }{
	{"certificates", "certificates"},
	{"external_refs", "  with an external_ref"},
	{"issuers", "issuers"},
	{"users", "users"},
	{"signing_keys", "signing keys"},
	{"serials", "serial counters"},
}

// countsSummary lists record counts one a line, the known ones first and
// in a fixed order, any other (a count added later) after them by name.
func countsSummary(counts map[string]int64) string {
	var b strings.Builder
	line := func(label string, n int64) { fmt.Fprintf(&b, "  %-24s %d\n", label, n) }
	known := map[string]bool{}
	for _, c := range countLabels {
		known[c.key] = true
		if n, ok := counts[c.key]; ok {
			line(c.label, n)
		}
	}
	var rest []string
	for k := range counts {
		if !known[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		line(strings.ReplaceAll(k, "_", " "), counts[k])
	}
	return b.String()
}
