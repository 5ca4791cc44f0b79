package handlers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
)

// xlsxType is the media type of .xlsx files.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// importWait is how long POST /api/v1/imports?wait=true waits for the job
// before answering 202 anyway.
const importWait = 60 * time.Second

// importJSON is an import job as the API shows it; Rows and the paging
// fields are there once the job has finished.
type importJSON struct {
	importer.JobStatus
	ReportURL string               `json:"report_url"`
	Rows      []importer.RowResult `json:"rows,omitempty"`
	RowsTotal *int                 `json:"rows_total,omitempty"`
	Page      int                  `json:"page,omitempty"`
	PerPage   int                  `json:"per_page,omitempty"`
}

// createImport takes a spreadsheet upload (multipart field "file") and
// starts its import as a job. The upload is spooled to disk as it arrives,
// so its size does not become memory. ?dry_run=true checks only;
// ?all_or_nothing=true issues nothing unless every row is good;
// ?encoding=utf-8|gb18030 says how a CSV is encoded, which a file that
// reads cleanly both ways needs (without it, such a file is refused);
// ?wait=true answers when the job is done (up to a minute), which suits
// small files and tests; otherwise the answer is 202 at once and the
// client polls GET /api/v1/imports/{id}.
func (s *Server) createImport(c echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	return s.startImport(c, kind)
}

// startImport is createImport for a kind of import (also reached by POST
// /api/v1/training-records/batch with a spreadsheet).
func (s *Server) startImport(c echo.Context, kind string) error {
	u := actor(c)
	if u == nil {
		return registry.Errorf(registry.EUNAUTHORIZED, "login required")
	}
	if u.Role != registry.RoleIssuer {
		return registry.Errorf(registry.EFORBIDDEN, "only an issuing organisation's users import certificates")
	}
	enc, err := importer.ParseEncoding(c.QueryParam("encoding"))
	if err != nil {
		return err
	}
	opts := importer.Options{Kind: kind, Encoding: enc}
	var wait bool
	for name, dst := range map[string]*bool{"dry_run": &opts.DryRun, "all_or_nothing": &opts.AllOrNothing, "wait": &wait} {
		v, err := boolParam(c, name)
		if err != nil {
			return err
		}
		*dst = v
	}
	req := c.Request()
	extendDeadlines(c, uploadTime, uploadTime+importWait)
	req.Body = http.MaxBytesReader(c.Response(), req.Body, s.imports.MaxUpload()+1<<20)
	mr, err := req.MultipartReader()
	if err != nil {
		return registry.FieldError("file", `send the spreadsheet as multipart/form-data in the field "file"`)
	}
	var job *importer.Job
	for job == nil {
		part, err := mr.NextPart()
		switch {
		case errors.Is(err, io.EOF):
			return registry.FieldError("file", `the form has no field "file"`)
		case err != nil:
			return uploadError(err)
		}
		if part.FormName() != "file" {
			part.Close()
			continue
		}
		job, err = s.imports.Start(u, part.FileName(), uploadReader{part}, opts)
		if err != nil {
			return err
		}
	}
	status := http.StatusAccepted
	if wait {
		timer := time.NewTimer(importWait)
		defer timer.Stop()
		select {
		case <-job.Done():
			status = http.StatusOK
		case <-timer.C:
		case <-req.Context().Done():
		}
	}
	out, err := s.importJSON(c, job)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/imports/"+job.ID())
	return c.JSON(status, out)
}

// The server's read and write timeouts suit API calls, not a 100 MiB
// upload over a slow line or a report of half a million rows: these routes
// extend their own deadlines.
const (
	uploadTime = 30 * time.Minute
	reportTime = 10 * time.Minute
)

// extendDeadlines moves this request's read and write deadlines (0 leaves
// one alone). Where the writer cannot (a test recorder), nothing changes.
func extendDeadlines(c echo.Context, read, write time.Duration) {
	rc := http.NewResponseController(c.Response().Writer)
	if read > 0 {
		_ = rc.SetReadDeadline(time.Now().Add(read))
	}
	if write > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(write))
	}
}

// uploadReader turns the request-size limit into the domain's ETOOLARGE.
type uploadReader struct{ r io.Reader }

func (u uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = uploadError(err)
	}
	return n, err
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &registry.Error{Code: registry.ETOOLARGE, Field: "file", Message: fmt.Sprintf("the upload is larger than %d MiB; split the file", mbe.Limit>>20)}
	}
	return registry.FieldError("file", "the upload could not be read: %v", err)
}

func boolParam(c echo.Context, name string) (bool, error) {
	switch c.QueryParam(name) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, registry.FieldError(name, "%s must be true or false", name)
}

// getImport reports a job; once it is done, with a page of its rows
// (?page=1&per_page=100, at most 1000; ?only=errors for the bad rows).
func (s *Server) getImport(c echo.Context) error {
	if err := checkQuery(c, "page", "per_page", "only"); err != nil {
		return err
	}
	job, err := s.imports.Job(actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	out, err := s.importJSON(c, job)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) importJSON(c echo.Context, job *importer.Job) (importJSON, error) {
	out := importJSON{JobStatus: job.Status(), ReportURL: "/api/v1/imports/" + job.ID() + "/report.xlsx"}
	if out.Status == importer.JobRunning {
		return out, nil
	}
	var err error
	if out.Page, out.PerPage, err = pageParams(c, 100, 1000); err != nil {
		return out, err
	}
	only := c.QueryParam("only")
	if only != "" && only != "errors" {
		return out, registry.FieldError("only", `only may be "errors"`)
	}
	rows, total, err := job.Rows((out.Page-1)*out.PerPage, out.PerPage, only == "errors")
	if err != nil {
		return out, err
	}
	out.Rows, out.RowsTotal = rows, &total
	return out, nil
}

// importReport sends the job's report: the uploaded rows with a 结果
// (result) column.
func (s *Server) importReport(c echo.Context) error {
	job, err := s.imports.Job(actor(c), c.Param("id"))
	if err != nil {
		return err
	}
	extendDeadlines(c, 0, reportTime)
	name := strings.TrimSuffix(job.Status().FileName, ".xlsx")
	name = strings.TrimSuffix(name, ".csv")
	w := &lazyDownload{c: c, name: "导入结果-" + name + ".xlsx"}
	if err := job.WriteReport(w); err != nil {
		if !w.started {
			return err
		}
		s.log.Error("writing import report", "job", job.ID(), "err", err)
	}
	if !w.started {
		w.start()
	}
	return nil
}

// lazyDownload sends the download headers with the first byte, so that an
// error found before any byte is written can still be an error response.
type lazyDownload struct {
	c       echo.Context
	name    string
	started bool
}

func (d *lazyDownload) start() {
	d.started = true
	h := d.c.Response().Header()
	h.Set(echo.HeaderContentType, xlsxType)
	h.Set(echo.HeaderContentDisposition, contentDisposition(d.name))
	h.Set("Cache-Control", "private, no-store")
	d.c.Response().WriteHeader(http.StatusOK)
}

func (d *lazyDownload) Write(p []byte) (int, error) {
	if !d.started {
		d.start()
	}
	return d.c.Response().Write(p)
}

// contentDisposition names an attachment for every browser: an ASCII
// fallback and the UTF-8 name (RFC 6266, RFC 5987).
func contentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7E || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, name)
	if strings.Trim(ascii, "-_. ") == "" || ascii == ".xlsx" || strings.HasPrefix(ascii, "-") {
		ascii = "report.xlsx"
	}
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + rfc5987(name)
}

// rfc5987 percent-encodes s as an RFC 5987 ext-value: every byte but the
// attr-chars.
func rfc5987(s string) string {
	const attr = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attr, c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// importTemplate sends the spreadsheet template with the Chinese headers.
// It is public: it holds no data, and a browser link can fetch it.
func (s *Server) importTemplate(c echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	name, err := writeTemplate(kind, &buf)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, contentDisposition(name))
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	c.Response().Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	return c.Blob(http.StatusOK, xlsxType, buf.Bytes())
}
