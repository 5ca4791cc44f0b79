package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
)

// fileBackupSource is a store that can copy itself to a file and count
// its records (the embedded store).
type fileBackupSource interface {
	registry.Exporter
	registry.FileBackuper
}

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
		return errors.New("backup copies the embedded store; back MongoDB up with mongodump or your cluster's snapshots")
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
		return errors.New("this store cannot be backed up to a file")
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
	fmt.Fprintf(stdout, "backup written to %s and verified: %v\n", dest, got)
	for k, n := range got {
		if n < orig[k] {
			return fmt.Errorf("the backup has %d %s, the store %d", n, k, orig[k])
		}
	}
	fmt.Fprintf(stdout, "restore: stop the server, keep master.key, and copy %s to <data dir>/skillreg.db (removing skillreg.db-wal and -shm)\n", dest)
	return nil
}
