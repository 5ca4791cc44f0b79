package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry/sqlite"
)

// TestBackup: a backup of a data directory opens as a store with the same
// records, and refuses to overwrite a file.
func TestBackup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	e, err := openEnv(ctx, dataFlags{dataDir: dir}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.keys().Ensure(ctx, nowUTC()); err != nil {
		t.Fatal(err)
	}
	e.Close()
	dest := filepath.Join(t.TempDir(), "backup.db")
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"backup", "--data", dir, dest}, &out, &errb); code != 0 {
		t.Fatalf("backup exited %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "verified") {
		t.Fatalf("output: %s", out.String())
	}
	st, err := sqlite.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := st.SigningKeys(ctx)
	if err != nil || len(keys) != 1 {
		t.Fatalf("backup has %d keys, %v", len(keys), err)
	}
	if code := run(ctx, []string{"backup", "--data", dir, dest}, &out, &errb); code == 0 {
		t.Fatal("backup overwrote an existing file")
	}
}

// TestBackupMongoAdvice: on a MongoDB store, backup writes nothing and
// names the tools that back MongoDB up, without echoing the URI (it may
// hold a password).
func TestBackupMongoAdvice(t *testing.T) {
	t.Parallel()
	dest := filepath.Join(t.TempDir(), "backup.db")
	uri := "mongodb://operator:s3cret@127.0.0.1:1/skillreg"
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"backup", "--data", t.TempDir(), "--mongo-uri", uri, dest}, &out, &errb); code == 0 {
		t.Fatalf("backup of a MongoDB store exited 0: %s", out.String())
	}
	msg := errb.String()
	for _, want := range []string{"does not back up MongoDB", "mongodump", "mongorestore", "snapshots", "skillreg migrate --from <URI> --to DIR", "master key"} {
		if !strings.Contains(msg, want) {
			t.Errorf("backup on MongoDB says %q; want it to mention %q", msg, want)
		}
	}
	if strings.Contains(msg, "s3cret") {
		t.Errorf("backup on MongoDB echoes the URI's password: %q", msg)
	}
	if _, err := os.Stat(dest); err == nil {
		t.Errorf("backup on MongoDB wrote %s", dest)
	}
}
