package importer

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// Job statuses.
const (
	JobRunning   = "running"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled" // stopped by a server shutdown; re-upload to finish
)

// ManagerConfig configures a Manager; the zero value is usable.
type ManagerConfig struct {
	// Dir holds one directory per job (the spooled upload and the per-row
	// results); "" is the system's temporary directory.
	Dir string
	// MaxUpload is the largest file accepted, in bytes (default 100 MiB).
	MaxUpload int64
	// Retention is how long a finished job is kept (default 24 h).
	Retention time.Duration
	// Concurrency is how many imports run at once (default 2; SQLite has
	// one writer anyway). Imports of one organisation always run one at a
	// time, so that two uploads of the same file cannot race.
	Concurrency int
	Clock       func() time.Time
	Logger      *slog.Logger
}

// DefaultMaxUpload is the default upload limit: about 1.5 million CSV rows.
const DefaultMaxUpload = 100 << 20

// jobDirPrefix names job directories, so that stale ones can be found.
const jobDirPrefix = "skillreg-import-"

// Manager runs imports as background jobs and keeps their status in
// memory, one table per process. A restart loses the table (and so the
// status and report of earlier jobs) but never an issued certificate:
// uploading the same file again skips what exists and finishes the rest.
type Manager struct {
	reg    *registry.Registry
	cfg    ManagerConfig
	ctx    context.Context // jobs run under it; Shutdown cancels it
	cancel context.CancelFunc
	sem    chan struct{}
	mu     sync.Mutex
	jobs   map[string]*Job
	orgs   map[string]*sync.Mutex // one running import per organisation
}

// NewManager returns a Manager importing into reg. It removes the job
// directories that processes which have ended left in cfg.Dir (uploads
// included), and, where directories cannot be locked, those older than
// two retention periods.
func NewManager(reg *registry.Registry, cfg ManagerConfig) *Manager {
	if cfg.MaxUpload <= 0 {
		cfg.MaxUpload = DefaultMaxUpload
	}
	if cfg.Retention <= 0 {
		cfg.Retention = 24 * time.Hour
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	m := &Manager{reg: reg, cfg: cfg, sem: make(chan struct{}, cfg.Concurrency), jobs: map[string]*Job{}, orgs: map[string]*sync.Mutex{}}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.removeStale()
	return m
}

// MaxUpload returns the upload limit in bytes.
func (m *Manager) MaxUpload() int64 { return m.cfg.MaxUpload }

func (m *Manager) dir() string {
	if m.cfg.Dir != "" {
		return m.cfg.Dir
	}
	return os.TempDir()
}

func (m *Manager) removeStale() {
	entries, err := os.ReadDir(m.dir())
	if err != nil {
		return
	}
	cutoff := m.cfg.Clock().Add(-2 * m.cfg.Retention)
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), jobDirPrefix) {
			continue
		}
		dir := filepath.Join(m.dir(), e.Name())
		if canLock {
			// Unlocked: its process has ended, and with it every way to
			// see the job; locked: a running server's job.
			if !lockedByOther(dir) {
				os.RemoveAll(dir)
			}
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.RemoveAll(dir)
		}
	}
}

// Job is one import. Its methods are safe for concurrent use.
type Job struct {
	id       string
	issuerID string
	username string
	fileName string
	src      Source
	opts     Options
	dir      string
	lock     *os.File // holds the directory's lock while the job exists
	created  time.Time
	done     chan struct{}

	mu       sync.Mutex
	status   string
	counts   Counts
	outcome  Outcome
	failure  string
	finished *time.Time
}

// JobStatus is a snapshot of a job, as the API shows it.
type JobStatus struct {
	ID           string     `json:"id"`
	Status       string     `json:"status"` // running, done, failed or cancelled
	FileName     string     `json:"file_name"`
	Format       Format     `json:"format"`
	Encoding     string     `json:"encoding,omitempty"`
	SHA256       string     `json:"sha256"`
	DryRun       bool       `json:"dry_run"`
	AllOrNothing bool       `json:"all_or_nothing"`
	Kind         string     `json:"kind,omitempty"`
	Uploader     string     `json:"uploader"`
	CreatedAt    time.Time  `json:"created_at"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
	// SampleNames are the first names of the file as read, to check the
	// decoding by eye before the real run.
	SampleNames []string `json:"sample_names,omitempty"`
	Counts
	FileErrors []Problem `json:"file_errors,omitempty"`
	Error      string    `json:"error,omitempty"` // why a failed job failed
}

// Start checks that actor may import, spools upload (the file named name)
// to disk, computing its SHA-256, decides a CSV's encoding
// (DecideEncoding, with opts.Encoding), and starts the import in the
// background. EINVALID for a file that is empty or not a .xlsx or .csv,
// or a CSV whose encoding cannot be decided (field "encoding"),
// ETOOLARGE for one over the upload limit; the checks of the rows come
// later, in the job.
func (m *Manager) Start(actor *registry.User, name string, upload io.Reader, opts Options) (*Job, error) {
	if actor == nil {
		return nil, registry.Errorf(registry.EUNAUTHORIZED, "login required")
	}
	if actor.Role != registry.RoleIssuer {
		return nil, registry.Errorf(registry.EFORBIDDEN, "only an issuing organisation's users import certificates")
	}
	m.sweep()
	dir, err := os.MkdirTemp(m.dir(), jobDirPrefix)
	if err != nil {
		return nil, err
	}
	var lock *os.File
	if canLock {
		if lock, err = lockDir(dir); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	fail := func(err error) (*Job, error) {
		removeJobDir(dir, lock)
		return nil, err
	}
	src, err := m.spool(dir, name, upload)
	if err == nil && src.Format == FormatCSV {
		src.Encoding, err = decideFileEncoding(src.Path, opts.Encoding)
	}
	if err != nil {
		return fail(err)
	}
	id, err := newJobID()
	if err != nil {
		return fail(err)
	}
	display := filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "" || display == "." || display == "/" {
		display = "upload"
	}
	j := &Job{
		id: id, issuerID: actor.IssuerID, username: actor.Username, fileName: display, src: src,
		opts: opts, dir: dir, lock: lock, created: m.cfg.Clock().UTC(), done: make(chan struct{}), status: JobRunning,
		counts: Counts{Phase: PhaseCounting},
	}
	m.mu.Lock()
	m.jobs[id] = j
	org, ok := m.orgs[actor.IssuerID]
	if !ok {
		org = &sync.Mutex{}
		m.orgs[actor.IssuerID] = org
	}
	m.mu.Unlock()
	u := *actor
	go m.run(j, &u, org)
	return j, nil
}

func (m *Manager) spool(dir, name string, upload io.Reader) (Source, error) {
	path := filepath.Join(dir, uploadFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return Source{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(upload, m.cfg.MaxUpload+1))
	var re *registry.Error
	switch {
	case n > m.cfg.MaxUpload:
		return Source{}, &registry.Error{Code: registry.ETOOLARGE, Field: "file", Message: "the file is larger than " + sizeText(m.cfg.MaxUpload) + "; split it"}
	case errors.As(err, &re):
		return Source{}, re // the caller's reader says why it stopped
	case err != nil:
		return Source{}, registry.FieldError("file", "the upload could not be read to the end")
	case n == 0:
		return Source{}, registry.FieldError("file", "the file is empty")
	}
	if err := f.Close(); err != nil {
		return Source{}, err
	}
	head := make([]byte, 8)
	rf, err := os.Open(path)
	if err != nil {
		return Source{}, err
	}
	k, _ := io.ReadFull(rf, head)
	rf.Close()
	format, err := DetectFormat(name, head[:k])
	if err != nil {
		return Source{}, err
	}
	return Source{Path: path, Format: format, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// decideFileEncoding decides the encoding of the CSV file at path, as
// the uploader stated it (want) or from its content.
func decideFileEncoding(path, want string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return DecideEncoding(f, want)
}

func sizeText(n int64) string { return strconv.FormatInt(n>>20, 10) + " MiB" }

func newJobID() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// resultsFile is the job's per-row results, one JSON object a line, in
// row order.
const resultsFile = "results.jsonl"

func (m *Manager) run(j *Job, actor *registry.User, org *sync.Mutex) {
	org.Lock()
	defer org.Unlock()
	m.sem <- struct{}{}
	defer func() { <-m.sem }()

	start := time.Now()
	m.reg.Record(context.Background(), "import.started", actor.Username, "job", j.id, "issuer", j.issuerID, "file_sha256", j.src.SHA256, "dry_run", j.opts.DryRun, "all_or_nothing", j.opts.AllOrNothing)
	out, err := m.runJob(j, actor)
	cancelled := err != nil && m.ctx.Err() != nil
	m.reg.Record(context.Background(), "import.finished", actor.Username, "job", j.id, "issuer", j.issuerID, "ok", err == nil,
		"cancelled", cancelled, "rows", out.Total, "issued", out.Issued, "skipped", out.Skipped, "errors", out.Errors)
	if derr := j.dropUpload(out); derr != nil {
		m.cfg.Logger.Error("import: keeping the masked rows for the report", "job", j.id, "err", derr)
	}
	now := m.cfg.Clock().UTC()
	j.mu.Lock()
	j.outcome, j.counts, j.finished = out, out.Counts, &now
	j.status = JobDone
	switch {
	case cancelled:
		j.status = JobCancelled
		j.failure = "the server shut down during the import; every row done so far is kept: upload the same file again to finish"
	case err != nil:
		j.status = JobFailed
		j.failure = registry.ErrorMessage(err)
	}
	j.mu.Unlock()
	close(j.done)
	attrs := []any{"job", j.id, "actor", actor.Username, "issuer", j.issuerID, "dry_run", j.opts.DryRun, "all_or_nothing", j.opts.AllOrNothing,
		"rows", out.Total, "issued", out.Issued, "skipped", out.Skipped, "errors", out.Errors, "duration", time.Since(start)}
	if err != nil {
		m.cfg.Logger.Error("import failed", append(attrs, "err", err)...)
		return
	}
	m.cfg.Logger.Info("import.finished", attrs...)
}

func (m *Manager) runJob(j *Job, actor *registry.User) (Outcome, error) {
	f, err := os.OpenFile(filepath.Join(j.dir, resultsFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return Outcome{}, err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 64<<10)
	enc := json.NewEncoder(w)
	progress := func(c Counts) {
		j.mu.Lock()
		j.counts = c
		j.mu.Unlock()
	}
	out, err := Run(m.ctx, m.reg, actor, j.src, j.opts, func(r RowResult) error { return enc.Encode(r) }, progress)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	return out, err
}

// Job returns the job id of the actor's organisation. Another
// organisation's job, an expired one and an unknown id are all ENOTFOUND.
func (m *Manager) Job(actor *registry.User, id string) (*Job, error) {
	if actor == nil {
		return nil, registry.Errorf(registry.EUNAUTHORIZED, "login required")
	}
	if actor.Role != registry.RoleIssuer {
		return nil, registry.Errorf(registry.EFORBIDDEN, "only an issuing organisation's users import certificates")
	}
	m.sweep()
	m.mu.Lock()
	j, ok := m.jobs[id]
	m.mu.Unlock()
	if !ok || j.issuerID != actor.IssuerID {
		return nil, registry.Errorf(registry.ENOTFOUND, "no import %q", id)
	}
	return j, nil
}

// sweep forgets jobs finished more than the retention period ago and
// removes their files.
func (m *Manager) sweep() {
	cutoff := m.cfg.Clock().Add(-m.cfg.Retention)
	m.mu.Lock()
	var old []*Job
	for id, j := range m.jobs {
		j.mu.Lock()
		if j.finished != nil && j.finished.Before(cutoff) {
			old = append(old, j)
			delete(m.jobs, id)
		}
		j.mu.Unlock()
	}
	m.mu.Unlock()
	for _, j := range old {
		removeJobDir(j.dir, j.lock)
	}
}

// removeJobDir removes a job's directory and then lets go of its lock.
func removeJobDir(dir string, lock *os.File) {
	os.RemoveAll(dir)
	if lock != nil {
		lock.Close()
	}
}

// Shutdown cancels the running jobs (every row they finished is kept, so
// uploading the same file again finishes the rest), waits until they
// stop, and removes every job's files. A server calls it after its last
// request has been answered.
func (m *Manager) Shutdown() {
	m.cancel()
	m.Close()
}

// Close waits for running jobs to finish and removes every job's files.
func (m *Manager) Close() {
	m.mu.Lock()
	jobs := make([]*Job, 0, len(m.jobs))
	for _, j := range m.jobs {
		jobs = append(jobs, j)
	}
	m.jobs = map[string]*Job{}
	m.mu.Unlock()
	for _, j := range jobs {
		<-j.done
		removeJobDir(j.dir, j.lock)
	}
}

// ID returns the job's id.
func (j *Job) ID() string { return j.id }

// Done is closed when the job has finished.
func (j *Job) Done() <-chan struct{} { return j.done }

// Status returns a snapshot of the job.
func (j *Job) Status() JobStatus {
	j.mu.Lock()
	defer j.mu.Unlock()
	return JobStatus{
		ID: j.id, Status: j.status, FileName: j.fileName, Format: j.src.Format, Encoding: j.src.Encoding,
		SHA256: j.src.SHA256, DryRun: j.opts.DryRun, AllOrNothing: j.opts.AllOrNothing, Kind: j.opts.Kind, Uploader: j.username,
		CreatedAt: j.created, FinishedAt: j.finished, Counts: j.counts, FileErrors: j.outcome.FileErrors, Error: j.failure,
		SampleNames: j.outcome.SampleNames,
	}
}

func (j *Job) finishedOutcome() (Outcome, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.outcome, j.finished != nil
}

// Rows returns up to limit row results from offset (0-based), only the
// bad ones when problemsOnly, and how many there are in all. A job that is
// still running has none yet (ECONFLICT).
func (j *Job) Rows(offset, limit int, problemsOnly bool) ([]RowResult, int, error) {
	if _, done := j.finishedOutcome(); !done {
		return nil, 0, registry.Errorf(registry.ECONFLICT, "the import is still running")
	}
	out := []RowResult{}
	total := 0
	err := j.eachResult(func(raw []byte) error {
		if problemsOnly && !strings.Contains(string(raw), `"status":"invalid"`) {
			return nil
		}
		total++
		if total <= offset || len(out) >= limit {
			return nil
		}
		var r RowResult
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	return out, total, err
}

// eachResult calls fn with each line of the results file.
func (j *Job) eachResult(fn func([]byte) error) error {
	f, err := openResultsFile(j)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		if err := fn(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// openResultsFile opens the job's results; a job that failed before it
// wrote any has none.
func openResultsFile(j *Job) (io.ReadCloser, error) {
	f, err := os.Open(filepath.Join(j.dir, resultsFile))
	if errors.Is(err, os.ErrNotExist) {
		return io.NopCloser(strings.NewReader("")), nil
	}
	return f, err
}
