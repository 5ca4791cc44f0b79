package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// plaintextIDs walks the given folders and returns the files that contain
// any of ids (full ID numbers, all starting 110105) in clear.
func plaintextIDs(t *testing.T, ids map[string]bool, roots ...string) []string {
	t.Helper()
	var found []string
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if containsID(b, ids) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return found
}

func containsID(b []byte, ids map[string]bool) bool {
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("110105"))
		if j < 0 {
			return false
		}
		i += j
		if i+18 <= len(b) && ids[string(b[i:i+18])] {
			return true
		}
		i++
	}
}

// unzipAll returns the concatenated contents of a zip file (an .xlsx).
func unzipAll(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the report is not a zip file: %v", err)
	}
	var all bytes.Buffer
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(&all, rc)
		rc.Close()
	}
	return all.Bytes()
}

func checkMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s has mode %v, want %v", filepath.Base(path), fi.Mode().Perm(), want)
	}
}

// TestNothingPlaintextLeftBehind: no full ID number stays on disk outside
// the sealed database. A job directory with a plaintext upload left by a
// dead process is deleted at start-up; after an import (run to the end),
// the temporary and data folders hold no full ID number and its report
// (report.xlsx) shows them masked; after SIGTERM during a running import
// no job directory is left. The data directory is made owner-only (even
// one that existed with 0755), and the database, its WAL and SHM and a
// backup are 0600.
func TestNothingPlaintextLeftBehind(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	data, spool := filepath.Join(root, "data"), filepath.Join(root, "tmp")
	for _, d := range []string{data, spool} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	leftover := filepath.Join(spool, "skillreg-import-deadbeef")
	if err := os.Mkdir(leftover, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(leftover, "upload"), importCSV(3), 0o600); err != nil {
		t.Fatal(err)
	}

	s := startServer(t, data, "SKILLREG_ADMIN_PASSWORD="+adminPassword, "TMPDIR="+spool)
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("the dead process's job directory is still there after start-up (%v)", err)
	}
	a := newAPI(t, s.base)
	tok := setupIssuer(a)

	const rows, bigRows = 40, 20000
	ids := map[string]bool{}
	for i := 0; i < bigRows; i++ {
		ids[crashIDNumber(i)] = true
	}
	ctype, body := multipartBody(t, "spool.csv", importCSV(rows))
	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/imports?wait=true", bytes.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var job crashJob
	err = json.NewDecoder(resp.Body).Decode(&job)
	resp.Body.Close()
	if err != nil || job.Status != "done" || job.Issued != rows {
		t.Fatalf("import: %d %+v %v", resp.StatusCode, job, err)
	}
	if found := plaintextIDs(t, ids, spool, data); len(found) > 0 {
		t.Errorf("after the import, full ID numbers in %v", found)
	}
	rep := a.do(http.MethodGet, "/api/v1/imports/"+job.ID+"/report.xlsx", tok, nil, "")
	if rep.status != http.StatusOK {
		t.Fatalf("report: %d %s", rep.status, rep.body)
	}
	xml := unzipAll(t, rep.body)
	if containsID(xml, ids) {
		t.Error("report.xlsx shows full ID numbers")
	}
	if !bytes.Contains(xml, []byte(registry.MaskIDNumber(crashIDNumber(7)))) {
		t.Error("report.xlsx lacks the masked ID numbers")
	}

	checkMode(t, data, 0o700)
	for _, f := range []string{"skillreg.db", "skillreg.db-wal", "skillreg.db-shm", "master.key"} {
		checkMode(t, filepath.Join(data, f), 0o600)
	}
	backup := filepath.Join(root, "backups", "copy.db")
	if r := runCLI(t, "backup", "--data", data, backup); r.code != 0 {
		t.Fatalf("backup: %d %s%s", r.code, r.stdout, r.stderr)
	}
	checkMode(t, backup, 0o600)
	checkMode(t, filepath.Dir(backup), 0o700)

	// SIGTERM while a large import runs: it stops, and its upload goes.
	big := startImport(t, s.base, tok, importCSV(bigRows))
	t.Logf("SIGTERM with the second import at %+v", pollJob(t, a, tok, big.ID))
	if code, _ := s.stop(60 * time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM:\n%s", code, s.stderr.String())
	}
	if found := plaintextIDs(t, ids, spool, data); len(found) > 0 {
		t.Errorf("after SIGTERM, full ID numbers in %v", found)
	}
	if dirs, _ := filepath.Glob(filepath.Join(spool, "skillreg-import-*")); len(dirs) > 0 {
		t.Errorf("job directories left after SIGTERM: %v", dirs)
	}

	// A database file loosened while the server was down is owner-only
	// again after the next start.
	if err := os.Chmod(filepath.Join(data, "skillreg.db"), 0o644); err != nil {
		t.Fatal(err)
	}
	startServer(t, data, "TMPDIR="+spool)
	checkMode(t, filepath.Join(data, "skillreg.db"), 0o600)
}
