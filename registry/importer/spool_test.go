package importer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
)

// TestUploadLifecycle: a finished job keeps no upload, only its results
// and its rows with ID numbers masked; a manager starting on the same
// folder deletes a dead process's job directory but not the directory of
// a job another manager still holds; Shutdown leaves no job directory.
func TestUploadLifecycle(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	dead := filepath.Join(dir, "skillreg-import-dead")
	if err := os.Mkdir(dead, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dead, "upload"), []byte(idFor(9)), 0o600); err != nil {
		t.Fatal(err)
	}
	m := importer.NewManager(e.reg, importer.ManagerConfig{Dir: dir, Logger: discardLogger()})
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Fatalf("a dead process's job directory survived start-up: %v", err)
	}

	file := csvHeader + "张三," + idFor(1) + ",6-18-01-01,2,social,,\n李四," + idFor(2) + " 备注 " + idFor(3) + ",6-18-01-01,2,social,,\n"
	j, err := m.Start(e.user, "a.csv", strings.NewReader(file), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st := waitJob(t, j); st.Status != importer.JobDone {
		t.Fatalf("status %+v", st)
	}
	jobDirs, _ := filepath.Glob(filepath.Join(dir, "skillreg-import-*"))
	if len(jobDirs) != 1 {
		t.Fatalf("job directories %v", jobDirs)
	}
	names := map[string]bool{}
	entries, _ := os.ReadDir(jobDirs[0])
	for _, en := range entries {
		names[en.Name()] = true
		b, err := os.ReadFile(filepath.Join(jobDirs[0], en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{1, 2, 3} {
			if strings.Contains(string(b), idFor(i)) {
				t.Errorf("%s holds a full ID number", en.Name())
			}
		}
		if en.Name() == "rows.jsonl" && !strings.Contains(string(b), registry.MaskIDNumber(idFor(1))) {
			t.Errorf("rows.jsonl lacks the masked ID number:\n%s", b)
		}
	}
	if names["upload"] || !names["rows.jsonl"] || !names["results.jsonl"] {
		t.Errorf("a finished job's directory holds %v; want results and masked rows, no upload", names)
	}

	// Another manager on the same folder (a second server) leaves the
	// running manager's job alone.
	other := importer.NewManager(e.reg, importer.ManagerConfig{Dir: dir, Logger: discardLogger()})
	if _, err := os.Stat(jobDirs[0]); err != nil {
		t.Errorf("a live manager's job directory was deleted by another's start-up: %v", err)
	}
	other.Shutdown()

	m.Shutdown()
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("after Shutdown: %v", left)
	}
}
