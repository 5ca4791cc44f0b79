package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBuildIndex: two OSV files become the layout govulncheck reads: each
// entry under ID/, the modules index naming each affected module once per
// entry, and the database time the latest of the entries' and the given.
func TestBuildIndex(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	entries := map[string]string{
		"GO-2026-0001": `{"id":"GO-2026-0001","modified":"2026-01-02T00:00:00Z","published":"2026-01-01T00:00:00Z","affected":[{"package":{"name":"stdlib"}},{"package":{"name":"toolchain"}}]}`,
		"GO-2026-0002": `{"id":"GO-2026-0002","modified":"0001-01-01T00:00:00Z","published":"2026-03-04T00:00:00Z","affected":[{"package":{"name":"github.com/labstack/echo/v4"}},{"package":{"name":"stdlib"}}]}`,
	}
	for id, body := range entries {
		if err := os.WriteFile(filepath.Join(src, id+".json"), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	n, err := buildIndex(src, dst, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != 2 {
		t.Fatalf("buildIndex = %d, %v", n, err)
	}
	for id, body := range entries {
		b, err := os.ReadFile(filepath.Join(dst, "ID", id+".json"))
		if err != nil || string(b) != body {
			t.Errorf("ID/%s.json = %q, %v", id, b, err)
		}
	}
	var db struct{ Modified time.Time }
	readJSON(t, filepath.Join(dst, "index", "db.json"), &db)
	if !db.Modified.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("db modified %v, want the latest entry's 2026-03-04", db.Modified)
	}
	var modules []moduleMeta
	readJSON(t, filepath.Join(dst, "index", "modules.json"), &modules)
	var got []string
	for _, m := range modules {
		var ids []string
		for _, v := range m.Vulns {
			ids = append(ids, v.ID)
		}
		got = append(got, m.Path+"="+strings.Join(ids, ","))
	}
	want := "github.com/labstack/echo/v4=GO-2026-0002 stdlib=GO-2026-0001,GO-2026-0002 toolchain=GO-2026-0001"
	if strings.Join(got, " ") != want {
		t.Errorf("modules index %q, want %q", strings.Join(got, " "), want)
	}

	// A file whose name is not its entry's id is refused.
	if err := os.WriteFile(filepath.Join(src, "GO-2026-0003.json"), []byte(`{"id":"GO-2026-0004"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := buildIndex(src, t.TempDir(), time.Time{}); err == nil {
		t.Error("a misnamed entry was indexed")
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestCheckFindings: a reachable advisory fails the check unless the
// accepted file lists it; an advisory only imported never fails.
func TestCheckFindings(t *testing.T) {
	dir := t.TempDir()
	findings := filepath.Join(dir, "findings.json")
	stream := `{"config":{"scanner_name":"govulncheck"}}
{"finding":{"osv":"GO-2026-0001","fixed_version":"v1.26.10","trace":[{"module":"stdlib","version":"v1.26.8","package":"net/http","function":"Get"}]}}
{"finding":{"osv":"GO-2026-0002","trace":[{"module":"github.com/labstack/echo/v4","version":"v4.16.6","package":"github.com/labstack/echo/v4","function":"New"}]}}
{"finding":{"osv":"GO-2026-0003","fixed_version":"v4.16.1","trace":[{"module":"github.com/labstack/echo/v4","version":"v4.16.0"}]}}
`
	if err := os.WriteFile(findings, []byte(stream), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		accepted string
		fails    []string
	}{
		{"nothing accepted", []string{"GO-2026-0001", "GO-2026-0002"}},
		{"| echo | GO-2026-0002: mitigated by ... |", []string{"GO-2026-0001"}},
		{"GO-2026-0001 and GO-2026-0002, each with its mitigation", nil},
	} {
		accepted := filepath.Join(dir, "SECURITY.md")
		if err := os.WriteFile(accepted, []byte(tc.accepted), 0o644); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err := checkFindings(findings, accepted, &out)
		if len(tc.fails) == 0 {
			if err != nil {
				t.Errorf("accepted %q: %v", tc.accepted, err)
			}
		} else if err == nil || !strings.HasSuffix(err.Error(), strings.Join(tc.fails, ", ")) {
			t.Errorf("accepted %q: error %v, want it to name %v", tc.accepted, err, tc.fails)
		}
		if !strings.Contains(out.String(), "imported, not called: GO-2026-0003") {
			t.Errorf("the report does not list the imported advisory: %s", out.String())
		}
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkFindings(empty, filepath.Join(dir, "SECURITY.md"), &strings.Builder{}); err == nil {
		t.Error("an empty govulncheck output passed")
	}
}
