package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemoMarksItsBulkLoad: a demo into a fresh SQLite store leaves no
// marker when it finishes; a data directory whose marker is there (a
// load cut short) is refused, and nothing is written to it.
func TestDemoMarksItsBulkLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(ctx, []string{"demo", "--certificates", "300", "--quiet", "--data", dir}, &out, &errb); code != 0 {
		t.Fatalf("demo exited %d:\n%s\n%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "no drift") {
		t.Fatalf("demo output:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, demoIncomplete)); !os.IsNotExist(err) {
		t.Fatalf("after a finished demo the marker is there (%v)", err)
	}

	cut := t.TempDir()
	if err := os.WriteFile(filepath.Join(cut, demoIncomplete), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"demo", "--certificates", "300", "--quiet", "--data", cut}, &out, &errb); code == 0 {
		t.Fatalf("demo on a directory with an unfinished load exited 0:\n%s", out.String())
	}
	if !strings.Contains(errb.String()+out.String(), "did not finish") {
		t.Errorf("the refusal does not say why:\n%s\n%s", out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(cut, "skillreg.db")); !os.IsNotExist(err) {
		t.Errorf("the refused directory got a database (%v)", err)
	}
}
