package importer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
)

// TestRunResumesAfterInterruption: a run stopped half way (a crash or a
// closed connection) leaves what it issued; running the same file again
// issues the rest, and no row twice. The file is longer than the chunk
// the importer issues at once, so the stop falls inside it.
func TestRunResumesAfterInterruption(t *testing.T) {
	e := newEnv(t)
	const rowsInFile = 300
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := range rowsInFile {
		fmt.Fprintf(&b, "%s,%s,6-18-01-01,3,social,,\n", registry.DemoName(i), idFor(i))
	}
	src := e.source(t, "class.csv", []byte(b.String()))
	ctx, cancel := context.WithCancel(context.Background())
	_, err := importer.Run(ctx, e.reg, e.user, src, importer.Options{}, nil, func(c importer.Counts) {
		if c.Issued > 0 {
			cancel()
		}
	})
	issued := e.certificates(t)
	if !errors.Is(err, context.Canceled) || issued == 0 || issued >= rowsInFile {
		t.Fatalf("interrupted: %v, %d certificates", err, issued)
	}
	out, rows := e.run(t, src, importer.Options{})
	if out.Issued != rowsInFile-issued || out.Skipped != issued || e.certificates(t) != rowsInFile {
		t.Fatalf("resumed after %d: %+v", issued, out)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		if seen[r.Number] {
			t.Fatalf("number %s twice", r.Number)
		}
		seen[r.Number] = true
	}
}

func waitJob(t *testing.T, j *importer.Job) importer.JobStatus {
	t.Helper()
	select {
	case <-j.Done():
	case <-time.After(2 * time.Minute): // a hang guard only
		t.Fatal("job did not finish within 2 minutes")
	}
	return j.Status()
}

// TestManager: jobs belong to the uploading organisation, expire after
// the retention period with their files, and uploads over the limit or of
// the wrong kind are refused before any job starts.
func TestManager(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	m := importer.NewManager(e.reg, importer.ManagerConfig{Dir: dir, MaxUpload: 1000, Clock: func() time.Time { return now }, Logger: discardLogger()})
	t.Cleanup(m.Close)

	file := csvHeader + "张三," + idFor(1) + ",6-18-01-01,2,social,,\n"
	j, err := m.Start(e.user, "a.csv", strings.NewReader(file), importer.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	st := waitJob(t, j)
	if st.Status != importer.JobDone || st.Valid != 1 || st.Uploader != "bj-center" || st.FileName != "a.csv" || st.Format != importer.FormatCSV || st.Encoding != importer.EncodingUTF8 {
		t.Fatalf("status %+v", st)
	}
	rows, total, err := j.Rows(0, 10, false)
	if err != nil || total != 1 || rows[0].Status != importer.StatusValid {
		t.Fatalf("rows %+v %d %v", rows, total, err)
	}
	// The audit log has the job's start and end, with its counts, before
	// the job is reported done.
	audit, err := e.store.AuditEntries(context.Background(), 0, 100)
	if err != nil || len(audit) < 2 {
		t.Fatalf("audit entries %v, %v", audit, err)
	}
	started, finished := audit[len(audit)-2], audit[len(audit)-1]
	if started.Event != "import.started" || started.Attrs["job"] != j.ID() || started.Attrs["dry_run"] != "true" || started.Actor != "bj-center" ||
		finished.Event != "import.finished" || finished.Attrs["job"] != j.ID() || finished.Attrs["rows"] != "1" || finished.Attrs["issued"] != "0" || finished.Attrs["ok"] != "true" {
		t.Errorf("audit of the job: %+v, %+v", started, finished)
	}

	colleague := *e.user
	colleague.ID, colleague.Username = "u2", "colleague"
	if got, err := m.Job(&colleague, j.ID()); err != nil || got != j {
		t.Errorf("a colleague of the same organisation: %v", err)
	}
	other := &registry.User{ID: "u3", Role: registry.RoleIssuer, IssuerID: "S000244000001"}
	for _, tt := range []struct {
		u    *registry.User
		code string
	}{{other, registry.ENOTFOUND}, {&registry.User{Role: registry.RoleAdmin}, registry.EFORBIDDEN}, {nil, registry.EUNAUTHORIZED}} {
		if _, err := m.Job(tt.u, j.ID()); registry.ErrorCode(err) != tt.code {
			t.Errorf("Job as %+v: %v, want %s", tt.u, err, tt.code)
		}
	}

	uploads := []struct {
		name, content, code string
	}{
		{"big.csv", strings.Repeat("x", 1001), registry.ETOOLARGE},
		{"empty.csv", "", registry.EINVALID},
		{"old.xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", registry.EINVALID},
	}
	for _, u := range uploads {
		if _, err := m.Start(e.user, u.name, strings.NewReader(u.content), importer.Options{}); registry.ErrorCode(err) != u.code {
			t.Errorf("%s: %v, want %s", u.name, err, u.code)
		}
	}
	if _, err := m.Start(&registry.User{Role: registry.RoleOfficial}, "a.csv", strings.NewReader(file), importer.Options{}); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("official: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("refused uploads left files: %d entries", len(entries))
	}

	now = now.Add(25 * time.Hour)
	if _, err := m.Job(e.user, j.ID()); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("expired job: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("expired job left %d entries", len(entries))
	}
}

// TestManagerSerialisesAnOrganisation: two uploads of one file at once
// issue each row once; the second finds the first's certificates.
func TestManagerSerialisesAnOrganisation(t *testing.T) {
	e := newEnv(t)
	m := importer.NewManager(e.reg, importer.ManagerConfig{Dir: t.TempDir(), Logger: discardLogger()})
	t.Cleanup(m.Close)
	var b strings.Builder
	b.WriteString(csvHeader)
	for i := range 20 {
		fmt.Fprintf(&b, "%s,%s,6-18-01-01,3,social,,\n", registry.DemoName(i), idFor(i))
	}
	j1, err := m.Start(e.user, "a.csv", strings.NewReader(b.String()), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	j2, err := m.Start(e.user, "a.csv", strings.NewReader(b.String()), importer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := waitJob(t, j1), waitJob(t, j2)
	if s1.Issued+s2.Issued != 20 || s1.Skipped+s2.Skipped != 20 || e.certificates(t) != 20 {
		t.Fatalf("two uploads: %+v / %+v, %d certificates", s1.Counts, s2.Counts, e.certificates(t))
	}
}
