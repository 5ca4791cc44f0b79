package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry/importer"
)

const importUsage = `usage: skillreg import FILE [--server URL] [--token T] [--dry-run] [--all-or-nothing] [--kind training] [--encoding utf-8|gb18030] [--report OUT.xlsx]
       skillreg import FILE --data DIR [--issuer ID] [--dry-run] [--all-or-nothing] [--kind training] [--encoding utf-8|gb18030] [--report OUT.xlsx]

Uploads FILE (.xlsx, or .csv in UTF-8 or GB18030) to a running skillreg server as a
batch of certificates, follows the import with a progress bar on stderr, and prints
the summary and every bad row. Uploading the same file again issues nothing twice,
so an interrupted import is finished by running the same command again.
With --data (or --issuer, or --mongo-uri) the command imports straight into the registry
in that data directory, as the issuing organisation --issuer (needed when the registry has
more than one), with no server: the same checks and the same records as an upload.
--kind training imports training records (实名制培训记录) instead of certificates.
A CSV's encoding is decided from the whole file; one that reads cleanly both as UTF-8 and
as GB18030 is refused until --encoding says which it is. The summary shows the first
names as read: check them before the real run.
Exit status: 0 all rows issued or already there (or, with --dry-run, all good),
1 some rows are bad or the import failed, 2 usage or connection errors.
`

// importJob is the part of the server's import status the command reads.
type importJob struct {
	ID           string   `json:"id"`
	Status       string   `json:"status"`
	FileName     string   `json:"file_name"`
	Format       string   `json:"format"`
	Encoding     string   `json:"encoding"`
	SHA256       string   `json:"sha256"`
	DryRun       bool     `json:"dry_run"`
	AllOrNothing bool     `json:"all_or_nothing"`
	Kind         string   `json:"kind"`
	SampleNames  []string `json:"sample_names"`
	importer.Counts
	Error      string          `json:"error"`
	FileErrors []importProblem `json:"file_errors"`
	Rows       []struct {
		Row    int             `json:"row"`
		Status string          `json:"status"`
		Errors []importProblem `json:"errors"`
	} `json:"rows"`
	RowsTotal int `json:"rows_total"`
}

type importProblem struct {
	Row       int    `json:"row"`
	Column    string `json:"column"`
	Message   string `json:"message"`
	MessageEN string `json:"message_en"`
}

// maxListedRows is how many bad rows the summary lists; the report has all.
const maxListedRows = 200

// cmdImport uploads a spreadsheet and follows the import job.
func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, importUsage); fs.PrintDefaults() }
	server := fs.String("server", envOr("SKILLREG_SERVER", "http://127.0.0.1:8080"), "the skillreg server (env SKILLREG_SERVER)")
	token := fs.String("token", os.Getenv("SKILLREG_TOKEN"), "login token of an issuer user, from POST /api/v1/auth/login (env SKILLREG_TOKEN)")
	dryRun := fs.Bool("dry-run", false, "check every row and issue nothing")
	allOrNothing := fs.Bool("all-or-nothing", false, "issue nothing unless every row is good")
	report := fs.String("report", "", "save the report (the rows with a 结果 column) to this .xlsx file")
	interval := fs.Duration("interval", 500*time.Millisecond, "how often to poll the job")
	// Direct mode (training records too): no server, straight into a data dir.
	var data dataFlags
	data.register(fs)
	issuer := fs.String("issuer", "", "direct mode: the id of the issuing organisation that imports (needed when the registry has more than one)")
	kind := fs.String("kind", importer.KindCertificates, `what the rows are: "certificates" or "training" (training records)`)
	encoding := fs.String("encoding", "", `a CSV's text encoding, "utf-8" or "gb18030"; needed only for a file that reads cleanly both ways`)
	files, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *kind != importer.KindCertificates && *kind != importer.KindTraining {
		fmt.Fprintln(stderr, `skillreg import: --kind must be "certificates" or "training"`)
		return 2
	}
	enc, err := importer.ParseEncoding(*encoding)
	if err != nil {
		fmt.Fprintln(stderr, `skillreg import: --encoding must be "utf-8" or "gb18030"`)
		return 2
	}
	direct := false
	fs.Visit(func(f *flag.Flag) { direct = direct || f.Name == "data" || f.Name == "issuer" || f.Name == "mongo-uri" })
	if direct {
		if len(files) != 1 {
			fmt.Fprint(stderr, importUsage)
			return 2
		}
		return importDirect(ctx, files[0], data, *issuer, importer.Options{DryRun: *dryRun, AllOrNothing: *allOrNothing, Kind: *kind, Encoding: enc}, *report, *interval, stdout, stderr)
	}
	if len(files) != 1 || *token == "" {
		fmt.Fprint(stderr, importUsage)
		if *token == "" {
			fmt.Fprintln(stderr, "\nskillreg import: --token (or SKILLREG_TOKEN) is required")
		}
		return 2
	}
	c := &importClient{base: strings.TrimRight(*server, "/"), token: *token, http: &http.Client{}}
	q := url.Values{}
	if *dryRun {
		q.Set("dry_run", "true")
	}
	if *allOrNothing {
		q.Set("all_or_nothing", "true")
	}
	if *kind != importer.KindCertificates {
		q.Set("kind", *kind)
	}
	if enc != "" {
		q.Set("encoding", enc)
	}
	job, err := c.upload(ctx, files[0], q)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg import: %v\n", err)
		return 2
	}
	bar := newProgressBar(stderr)
	for job.Status == "running" {
		bar.show(job)
		select {
		case <-ctx.Done():
			bar.done()
			fmt.Fprintf(stderr, "skillreg import: interrupted; the server goes on with job %s (run the same command again to check or finish it)\n", job.ID)
			return 1
		case <-time.After(*interval):
		}
		if job, err = c.job(ctx, job.ID, "page=1&per_page=1"); err != nil {
			bar.done()
			fmt.Fprintf(stderr, "skillreg import: %v\n", err)
			return 2
		}
	}
	bar.show(job)
	bar.done()
	bad, more, err := c.badRows(ctx, job)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg import: %v\n", err)
		return 2
	}
	printSummary(stdout, job, bad, more)
	if *report != "" {
		if err := c.download(ctx, "/api/v1/imports/"+job.ID+"/report.xlsx", *report); err != nil {
			fmt.Fprintf(stderr, "skillreg import: report: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "report: %s\n", *report)
	}
	if job.Status != "done" || job.Errors > 0 {
		return 1
	}
	return 0
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("import FILE --server URL" as well as "import
// --server URL FILE"), which the flag package alone does not allow.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		rest := fs.Args()
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

type importClient struct {
	base  string
	token string
	http  *http.Client
}

// upload streams the file as a multipart form, without reading it into
// memory.
func (c *importClient) upload(ctx context.Context, path string, q url.Values) (*importJob, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("file", filepath.Base(path))
		if err == nil {
			_, err = io.Copy(part, f)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	u := c.base + "/api/v1/imports"
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, pr)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var job importJob
	if err := c.do(req, &job); err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	return &job, nil
}

func (c *importClient) job(ctx context.Context, id, query string) (*importJob, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/imports/"+url.PathEscape(id)+"?"+query, nil)
	if err != nil {
		return nil, err
	}
	var job importJob
	if err := c.do(req, &job); err != nil {
		return nil, err
	}
	return &job, nil
}

// badRows fetches the problems of a finished job's bad rows, up to
// maxListedRows rows, and whether there are more.
func (c *importClient) badRows(ctx context.Context, job *importJob) ([]importProblem, bool, error) {
	const per = 100
	if job.Errors == 0 || job.Status == "running" {
		return nil, false, nil
	}
	var out []importProblem
	for page := 1; page*per <= maxListedRows; page++ {
		j, err := c.job(ctx, job.ID, fmt.Sprintf("only=errors&per_page=%d&page=%d", per, page))
		if err != nil {
			return nil, false, err
		}
		for _, r := range j.Rows {
			out = append(out, r.Errors...)
		}
		if page*per >= j.RowsTotal {
			return out, false, nil
		}
	}
	return out, true, nil
}

func (c *importClient) do(req *http.Request, into any) error {
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return serverError(resp.StatusCode, body)
	}
	return json.Unmarshal(body, into)
}

func serverError(status int, body []byte) error {
	var e struct {
		Error struct {
			Code, Message, Field string
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		if e.Error.Field != "" {
			return fmt.Errorf("server says %d %s: %s: %s", status, e.Error.Code, e.Error.Field, e.Error.Message)
		}
		return fmt.Errorf("server says %d %s: %s", status, e.Error.Code, e.Error.Message)
	}
	return fmt.Errorf("server says %d %s", status, http.StatusText(status))
}

func (c *importClient) download(ctx context.Context, path, to string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return serverError(resp.StatusCode, b)
	}
	f, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

var phaseNames = map[string]string{"counting": "计数", "checking": "检查", "issuing": "签发", "done": "完成"}

// progressBar draws the job's progress on stderr: redrawn in place on a
// terminal, a line per tenth (and per phase) otherwise, so that logs stay
// readable.
type progressBar struct {
	w      io.Writer
	tty    bool
	last   string
	drawn  bool
	tenths int
}

func newProgressBar(w io.Writer) *progressBar {
	b := &progressBar{w: w, tenths: -1}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.tty = true
		}
	}
	return b
}

func (b *progressBar) show(j *importJob) {
	const width = 30
	done, total := j.Processed, j.Total
	if j.Phase == "done" || j.Status != "running" {
		done = total
	}
	frac := 0.0
	if total > 0 {
		frac = float64(min(done, total)) / float64(total)
	}
	filled := int(frac * width)
	line := fmt.Sprintf("%s [%s%s] %d/%d %3.0f%%  签发 %d  已存在 %d  错误 %d",
		phaseNames[j.Phase], strings.Repeat("#", filled), strings.Repeat("-", width-filled), done, total, frac*100, j.Issued, j.Skipped, j.Errors)
	if b.tty {
		fmt.Fprintf(b.w, "\r%s\x1b[K", line)
		b.drawn = true
		return
	}
	tenths := int(frac * 10)
	if j.Phase+fmt.Sprint(tenths) == b.last {
		return
	}
	b.last = j.Phase + fmt.Sprint(tenths)
	fmt.Fprintln(b.w, line)
}

func (b *progressBar) done() {
	if b.tty && b.drawn {
		fmt.Fprintln(b.w)
	}
}

func printSummary(w io.Writer, j *importJob, bad []importProblem, more bool) {
	enc := j.Format
	if j.Encoding != "" {
		enc += ", " + j.Encoding
	}
	fmt.Fprintf(w, "file: %s (%s) sha256 %s\njob: %s %s\n", j.FileName, enc, j.SHA256, j.ID, j.Status)
	if len(j.SampleNames) > 0 {
		fmt.Fprintf(w, "names as read: %s\n", strings.Join(j.SampleNames, "、"))
	}
	if j.Error != "" {
		fmt.Fprintf(w, "failed: %s\n", j.Error)
	}
	done := "issued"
	if j.Kind == importer.KindTraining {
		done = "registered"
	}
	fmt.Fprintf(w, "rows: %d  %s: %d  already existed: %d  errors: %d", j.Total, done, j.Issued, j.Skipped, j.Errors)
	switch {
	case j.DryRun:
		fmt.Fprintf(w, "  would issue: %d (dry run, nothing written)", j.Valid)
	case j.AllOrNothing && j.NotIssued > 0:
		fmt.Fprintf(w, "  not issued: %d (all or nothing: the file has bad rows)", j.NotIssued)
	}
	fmt.Fprintln(w)
	for _, p := range j.FileErrors {
		printProblem(w, p)
	}
	for _, p := range bad {
		printProblem(w, p)
	}
	if more {
		fmt.Fprintf(w, "… more bad rows: see the report (--report FILE)\n")
	}
}

func printProblem(w io.Writer, p importProblem) {
	col := ""
	if p.Column != "" {
		col = " " + p.Column
	}
	fmt.Fprintf(w, "第 %d 行%s：%s (%s)\n", p.Row, col, p.Message, p.MessageEN)
}
