package main

import (
	"bytes"
	"context"
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
