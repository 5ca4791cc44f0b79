package importer

import (
	"context"
	"errors"
	"hash/maphash"
	"io"
	"strconv"

	"github.com/skillreg/skillreg/registry"
)

// Options choose what an import does.
type Options struct {
	// DryRun checks every row and writes nothing.
	DryRun bool `json:"dry_run"`
	// AllOrNothing issues no row unless every row is good: a full check
	// pass runs first, then the issue pass.
	AllOrNothing bool `json:"all_or_nothing"`
	// Kind is what the rows are: KindCertificates ("" too) or
	// KindTraining (training records).
	Kind string `json:"kind,omitempty"`
	// Encoding is a CSV's text encoding as the uploader states it
	// (ParseEncoding): EncodingUTF8, EncodingGB18030, or "" to let
	// DecideEncoding decide, which refuses a file that reads cleanly both
	// ways. An xlsx ignores it.
	Encoding string `json:"encoding,omitempty"`
}

// Row statuses in a RowResult.
const (
	StatusIssued    = "issued"     // issued by this run
	StatusExists    = "exists"     // already in the registry: skipped
	StatusValid     = "valid"      // dry run: would be issued
	StatusNotIssued = "not_issued" // all or nothing: good, but other rows were bad
	StatusInvalid   = "invalid"    // see Errors
)

// RowResult is the outcome of one data row.
type RowResult struct {
	Row         int       `json:"row"`
	Status      string    `json:"status"`
	Number      string    `json:"number,omitempty"` // the issued or existing certificate
	ExternalRef string    `json:"external_ref,omitempty"`
	Errors      []Problem `json:"errors,omitempty"`
	// Kind is KindTraining for a training row, whose Number is then the
	// training record's ID.
	Kind string `json:"kind,omitempty"`
}

// Phases of an import, as reported in Counts.
const (
	PhaseCounting = "counting"
	PhaseChecking = "checking" // all or nothing's first pass, or a dry run
	PhaseIssuing  = "issuing"
	PhaseDone     = "done"
)

// Counts is an import's progress. Processed counts the rows of the current
// phase; Issued, Skipped (already existing), Valid (dry run), NotIssued
// (all or nothing) and Errors count rows with a final result.
type Counts struct {
	Phase     string `json:"phase"`
	Total     int    `json:"total"`
	Processed int    `json:"processed"`
	Issued    int    `json:"issued"`
	Skipped   int    `json:"skipped"`
	Valid     int    `json:"valid"`
	NotIssued int    `json:"not_issued"`
	Errors    int    `json:"errors"`
}

// Source is a spreadsheet on disk. SHA256 (hex) identifies its content:
// rows without an external_ref get one derived from it and the row
// number, so that importing the same file again issues nothing new.
type Source struct {
	Path   string
	Format Format
	SHA256 string
	// Encoding is a CSV's text encoding, EncodingUTF8 or EncodingGB18030,
	// as decided when the upload was spooled; "" decides it on each open.
	Encoding string
}

// FileRef is the prefix of derived external_refs: "file-" and the first
// 16 hex digits of the file's SHA-256.
func (s Source) FileRef() string {
	h := s.SHA256
	if len(h) > 16 {
		h = h[:16]
	}
	return "file-" + h
}

// Outcome is what Run found out about the file as a whole.
type Outcome struct {
	Counts
	FileErrors []Problem // header problems (missing column, ...); no row was looked at
	HeaderRow  int       // the header's row number (0 if none was found)
	Width      int       // the most cells any row has
	Encoding   string    // a CSV's text encoding
	// SampleNames are the first few names as read (and as they would be
	// signed), so that a clerk can see the file was decoded right.
	SampleNames []string
}

// sampleNames is how many names an Outcome shows.
const sampleNames = 5

// addSample adds the name in cell to out's samples, in the form it would
// be signed when the name rule accepts it.
func (out *Outcome) addSample(cell string) {
	if len(out.SampleNames) >= sampleNames || cell == "" {
		return
	}
	if n, err := registry.NormalizeName(cell); err == nil {
		cell = n
	}
	out.SampleNames = append(out.SampleNames, cell)
}

// Run imports src for actor, an issuer's user. It counts the rows, then
// makes one pass (dry run, or a plain import) or two (all or nothing: a
// check pass, then the issue pass, or, if any row is bad, a pass that
// reports every row and issues none). emit receives each data row's final
// result, in file order; progress is called as rows are done. Both may be
// nil.
//
// A row is bad if it cannot be parsed, repeats an earlier row of the file,
// or the registry refuses it (CheckIssue's or Issue's EINVALID or
// EFORBIDDEN). A row whose certificate exists already (same external_ref,
// or same holder, occupation and level: registry.FindDuplicate) is
// skipped with that certificate's number, which makes a re-run of an
// interrupted import finish the work without issuing anything twice.
//
// The error is for the run as a whole: EUNAUTHORIZED or EFORBIDDEN for an
// actor who may not issue, an unreadable file, a cancelled context, or a
// store failure. Rows already issued stay issued; running the same file
// again completes the import.
func Run(ctx context.Context, reg *registry.Registry, actor *registry.User, src Source, opts Options, emit func(RowResult) error, progress func(Counts)) (Outcome, error) {
	if actor == nil {
		return Outcome{}, registry.Errorf(registry.EUNAUTHORIZED, "login required")
	}
	if actor.Role != registry.RoleIssuer {
		return Outcome{}, registry.Errorf(registry.EFORBIDDEN, "only an issuing organisation's users import certificates")
	}
	issuer, err := reg.Issuer(ctx, actor.IssuerID)
	if err != nil {
		return Outcome{}, err
	}
	if progress == nil {
		progress = func(Counts) {}
	}
	r := &run{ctx: ctx, reg: reg, actor: actor, issuer: issuer, src: src, progress: progress}
	switch opts.Kind {
	case "", KindCertificates:
	case KindTraining:
		return r.runTraining(opts, emit)
	default:
		return Outcome{}, registry.FieldError("kind", `kind must be "certificates" or "training"`)
	}
	out, err := r.count()
	if err != nil || len(out.FileErrors) > 0 || out.Total == 0 {
		out.Phase = PhaseDone
		out.Errors = len(out.FileErrors)
		progress(out.Counts)
		return out, err
	}
	final := modeIssue
	switch {
	case opts.DryRun:
		final = modeCheck
	case opts.AllOrNothing:
		c, err := r.pass(&out, modeCheck, nil)
		if err != nil {
			return out, err
		}
		if c.Errors > 0 {
			final = modeWithhold
		}
	}
	c, err := r.pass(&out, final, emit)
	out.Counts = c
	if err == nil {
		out.Phase = PhaseDone
		progress(out.Counts)
	}
	return out, err
}

type mode int

const (
	modeCheck    mode = iota // check only: valid, exists or invalid
	modeWithhold             // all or nothing with bad rows: not_issued, exists or invalid
	modeIssue                // issue: issued, exists or invalid
)

type run struct {
	ctx      context.Context
	reg      *registry.Registry
	actor    *registry.User
	issuer   *registry.Issuer
	src      Source
	progress func(Counts)
}

// headerSearchRows is how many non-blank rows may precede the header (a
// title such as "2026 年第 3 期车工培训证书发放表").
const headerSearchRows = 10

// rows opens the file and returns the reader positioned after the header,
// and the header. A file whose header lacks a column comes back with its
// problems.
func (r *run) rows() (Reader, *header, []Problem, error) {
	rd, hdr, first, err := r.openAtHeader(func(row Row) bool { return recognised(row.Cells) >= 2 })
	switch {
	case err != nil:
		return nil, nil, nil, err
	case hdr != nil:
		h, problems := parseHeader(*hdr)
		return rd, h, problems, nil
	case first == nil:
		return nil, nil, []Problem{newProblem(1, "", "", CodeNoHeader)}, nil
	}
	_, problems := parseHeader(*first)
	return nil, nil, problems, nil
}

// openAtHeader opens the file and reads up to headerSearchRows non-blank
// rows, looking for one that isHeader accepts. It returns the reader
// positioned after that row, and the row; when there is none, no reader
// and the first non-blank row (nil in a file without any), whose header
// problems the caller reports.
func (r *run) openAtHeader(isHeader func(Row) bool) (Reader, *Row, *Row, error) {
	rd, err := OpenSource(r.src)
	if err != nil {
		return nil, nil, nil, err
	}
	var first *Row
	for seen := 0; seen < headerSearchRows; {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			rd.Close()
			return nil, nil, nil, err
		}
		if row.blank() {
			continue
		}
		seen++
		if first == nil {
			first = &row
		}
		if isHeader(row) {
			return rd, &row, first, nil
		}
	}
	rd.Close()
	return nil, nil, first, nil
}

// count makes the first, cheap pass: it finds the header and counts the
// data rows, so that progress has a total.
func (r *run) count() (Outcome, error) {
	out := Outcome{Counts: Counts{Phase: PhaseCounting}}
	r.progress(out.Counts)
	rd, h, problems, err := r.rows()
	if err != nil || problems != nil {
		out.FileErrors = problems
		if h != nil {
			out.HeaderRow = h.row
		}
		if rd != nil {
			rd.Close()
		}
		return out, err
	}
	defer rd.Close()
	out.HeaderRow = h.row
	out.Width = len(h.names)
	if cr, ok := rd.(*CSVReader); ok {
		out.Encoding = cr.Encoding()
	}
	for {
		if err := r.ctx.Err(); err != nil {
			return out, err
		}
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out.Width = max(out.Width, len(row.Cells))
		if row.blank() {
			continue
		}
		out.addSample(h.cell(row, "holder_name"))
		out.Total++
		if out.Total > MaxRows {
			out.Total = 0
			out.FileErrors = []Problem{newProblem(row.Number, "", "", CodeTooManyRows, MaxRows)}
			return out, nil
		}
		if out.Total%1000 == 0 {
			out.Processed = out.Total
			r.progress(out.Counts)
		}
	}
}

// pass reads every data row once in mode m. It is a pipeline of two
// stages: one goroutine reads, parses and checks rows (the duplicate
// checks and the registry's reads), the caller's goroutine issues them
// in file order. Issuing waits on the disk (every chunk of certificates
// is synced before it is acknowledged), so the next rows' reads overlap
// that wait instead of adding to it. The stages cannot disagree: a repeat within
// the file is caught by the first stage's index before either row is
// issued, and the Manager runs one import per organisation at a time.
func (r *run) pass(out *Outcome, m mode, emit func(RowResult) error) (Counts, error) {
	rd, h, _, err := r.rows()
	if err != nil {
		return out.Counts, err
	}
	if rd == nil {
		return out.Counts, registry.Errorf(registry.ECONFLICT, "the file changed during the import")
	}
	c := Counts{Phase: PhaseIssuing, Total: out.Total}
	if m != modeIssue {
		c.Phase = PhaseChecking
	}
	r.progress(c)
	chk := &checker{run: r, head: h, fileRef: r.src.FileRef(), keys: newDupIndex(), refs: newDupIndex(), names: newNameIndex()}

	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	checked := make(chan checkedRow, pipelineDepth)
	go func() {
		defer close(checked)
		defer rd.Close()
		send := func(cr checkedRow) bool {
			select {
			case checked <- cr:
				return cr.err == nil
			case <-ctx.Done():
				return false
			}
		}
		for ctx.Err() == nil {
			rows, readErr := readRows(rd, checkBatch)
			for _, cr := range chk.checkRows(ctx, rows, m) {
				if !send(cr) {
					return
				}
			}
			if readErr != nil {
				if !errors.Is(readErr, io.EOF) {
					send(checkedRow{err: readErr})
				}
				return
			}
		}
	}()
	finish := func(err error) (Counts, error) {
		cancel()
		for range checked { // let the first stage end and close the file
		}
		return c, err
	}

	chunk := make([]checkedRow, 0, issueChunk)
	for {
		chunk = gather(chunk[:0], checked)
		if len(chunk) == 0 {
			break
		}
		results, err := chk.issueChunk(chunk)
		for _, res := range results {
			if err := r.report(&c, res, emit); err != nil {
				return finish(err)
			}
		}
		if err != nil {
			return finish(err)
		}
	}
	// The first stage stops early only when ctx is done.
	return c, r.ctx.Err()
}

// gather fills chunk with the next checked rows: it waits for the first
// one, then takes what the first stage has ready, up to issueChunk rows,
// so that issuing never waits for a chunk to fill.
func gather(chunk []checkedRow, checked <-chan checkedRow) []checkedRow {
	cr, ok := <-checked
	if !ok {
		return chunk
	}
	chunk = append(chunk, cr)
	for len(chunk) < issueChunk && cr.err == nil {
		select {
		case cr, ok = <-checked:
			if !ok {
				return chunk
			}
			chunk = append(chunk, cr)
		default:
			return chunk
		}
	}
	return chunk
}

// issueChunk issues the rows of a chunk that are to be issued, together
// (registry.IssueMany), and returns the results of the chunk's rows in
// order, up to the first row whose error stops the run, and that error.
func (c *checker) issueChunk(chunk []checkedRow) ([]RowResult, error) {
	if err := c.ctx.Err(); err != nil {
		return nil, err
	}
	var ins []registry.IssueInput
	for _, cr := range chunk {
		if cr.err == nil && !cr.final {
			ins = append(ins, cr.in)
		}
	}
	var outcomes []registry.IssueOutcome
	if len(ins) > 0 {
		var err error
		if outcomes, err = c.reg.IssueMany(c.ctx, c.actor, ins); err != nil {
			return nil, err
		}
	}
	results := make([]RowResult, 0, len(chunk))
	k := 0
	for _, cr := range chunk {
		if cr.err != nil {
			return results, cr.err
		}
		res := cr.res
		if !cr.final {
			var err error
			if res, err = c.issued(res, &cr.in, cr.id, outcomes[k]); err != nil {
				return results, err
			}
			k++
		}
		results = append(results, res)
	}
	return results, nil
}

// report counts a row's final result, emits it and reports progress.
func (r *run) report(c *Counts, res RowResult, emit func(RowResult) error) error {
	c.Processed++
	switch res.Status {
	case StatusIssued:
		c.Issued++
	case StatusExists:
		c.Skipped++
	case StatusValid:
		c.Valid++
	case StatusNotIssued:
		c.NotIssued++
	case StatusInvalid:
		c.Errors++
	}
	if emit != nil {
		if err := emit(res); err != nil {
			return err
		}
	}
	r.progress(*c)
	return nil
}

// pipelineDepth is how many checked rows may wait to be issued, and
// issueChunk the most rows issued together: their certificates (on
// SQLite in one transaction), statistics upkeep, token MACs and audit
// entries are written at once (registry.IssueMany).
const (
	pipelineDepth = 256
	issueChunk    = 128
)

// checkedRow is a row through the first stage: a final result, or an
// input to issue.
type checkedRow struct {
	res   RowResult
	in    registry.IssueInput
	id    string
	final bool
	err   error
}

// checker checks (and issues) the rows of one pass.
type checker struct {
	*run
	head    *header
	fileRef string
	keys    *dupIndex // ID number + occupation + level -> first row
	refs    *dupIndex // given external_ref -> first row
	names   *nameIndex
}

// checkBatch is how many rows the first stage reads before it looks up
// their existing certificates, in one read of the store
// (registry.FindDuplicates).
const checkBatch = 64

// readRows reads up to n rows that are not blank. The error is the
// reader's (io.EOF after the last row), after the rows read before it.
func readRows(rd Reader, n int) ([]Row, error) {
	var rows []Row
	for len(rows) < n {
		row, err := rd.Next()
		if err != nil {
			return rows, err
		}
		if !row.blank() {
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// checkRows takes each row, in order, as far as it goes without writing.
// A final result (invalid, exists, or in a checking mode valid or
// not_issued) is the row's outcome; otherwise the row is to be issued. An
// error is for a failure that is not the row's fault (the store, the
// context): the run stops, and the rows end with the one that has it.
// The certificates of all the rows' holders are looked up in one read.
//
// The lookup finds what a row would repeat; Issue's own checks, made
// when the row is issued, stay authoritative. Read for the batch after
// its rows are read and before any of them is handed on, it sees every
// certificate a lookup per row would have seen: this run's own
// certificates never match (the file's rows repeat no holder,
// occupation and level, nor any given external_ref: dupIndex), and a
// re-run reads after the interrupted run's last commit.
func (c *checker) checkRows(ctx context.Context, rows []Row, m mode) []checkedRow {
	out := make([]checkedRow, len(rows))
	ps := make([]parsed, len(rows))
	var look []int
	var ins []registry.IssueInput
	for i, row := range rows {
		var final bool
		out[i].res, ps[i], final = c.parse(row)
		if final {
			out[i].in, out[i].id, out[i].final = ps[i].in, ps[i].id, true
			continue
		}
		look = append(look, i)
		ins = append(ins, ps[i].in)
	}
	if len(look) == 0 {
		return out
	}
	found, errs, err := c.reg.FindDuplicates(ctx, c.actor, ins)
	for k, i := range look {
		var existing *registry.Certificate
		e := err
		if e == nil {
			existing, e = found[k], errs[k]
		}
		cr := &out[i]
		cr.res, cr.in, cr.id, cr.final, cr.err = c.judge(ctx, cr.res, ps[i], existing, e, m)
		if cr.err != nil {
			return out[:i+1]
		}
	}
	return out
}

// parse is checkRows' part that needs no store: the row's fields, and its
// repeats of earlier rows of the file. final reports that res is the
// row's outcome (invalid).
func (c *checker) parse(row Row) (res RowResult, p parsed, final bool) {
	p, problems := c.head.parseRow(row, c.fileRef)
	res = RowResult{Row: row.Number, ExternalRef: p.in.ExternalRef}
	if len(problems) == 0 {
		if first, dup := c.keys.add(p.id+"\x00"+p.in.OccupationCode+"\x00"+strconv.Itoa(int(p.in.Level)), row.Number); dup {
			problems = append(problems, newProblem(row.Number, c.head.columnName("id_number"), "id_number", CodeDuplicateInFile, first))
		}
		if !p.derivedRef {
			if first, dup := c.refs.add(p.in.ExternalRef, row.Number); dup {
				problems = append(problems, newProblem(row.Number, c.head.columnName("external_ref"), "external_ref", CodeDuplicateRef, first))
			}
		}
		if first, other := c.names.add(p.id, p.in.HolderName, row.Number); other && p.in.NameChangeReason == "" {
			problems = append(problems, newProblem(row.Number, c.head.columnName("holder_name"), "holder_name", CodeIdentityInFile, first))
		}
	}
	if len(problems) > 0 {
		res.Status, res.Errors = StatusInvalid, problems
		return res, p, true
	}
	return res, p, false
}

// judge is checkRows' part after the lookup of what the row would repeat
// (registry.FindDuplicate's answer, existing or err).
func (c *checker) judge(ctx context.Context, res RowResult, p parsed, existing *registry.Certificate, err error, m mode) (RowResult, registry.IssueInput, string, bool, error) {
	if err == nil && !registry.SameName(existing.HolderName, p.in.HolderName) {
		// Not this row's certificate: the holder's name differs, which
		// the registry's identity check judges.
		err = registry.Errorf(registry.ENOTFOUND, "no certificate under this name")
	}
	switch {
	case err == nil:
		res.Status, res.Number = StatusExists, existing.Number
		return res, p.in, p.id, true, nil
	case registry.ErrorCode(err) != registry.ENOTFOUND:
		res, err = c.refused(res, &p.in, err)
		return res, p.in, p.id, true, err
	}
	if m == modeIssue {
		return res, p.in, p.id, false, nil
	}
	if err := c.reg.CheckIssue(ctx, c.actor, p.in); err != nil {
		res, err = c.refused(res, &p.in, err)
		return res, p.in, p.id, true, err
	}
	res.Status = StatusValid
	if m == modeWithhold {
		res.Status = StatusNotIssued
	}
	return res, p.in, p.id, true, nil
}

// issued turns a checked row's issue outcome into its result.
func (c *checker) issued(res RowResult, in *registry.IssueInput, id string, o registry.IssueOutcome) (RowResult, error) {
	cert, created, err := o.Certificate, o.Created, o.Err
	if err != nil {
		return c.refused(res, in, err)
	}
	res.Number = cert.Number
	switch {
	case created:
		res.Status = StatusIssued
	case cert.HolderIDHash != c.reg.Vault().HashID(id) || cert.OccupationCode != in.OccupationCode || cert.Level != in.Level:
		// The external_ref names another person's (or another level's)
		// certificate: Issue returned that one and wrote nothing.
		res.Number = ""
		res.Status = StatusInvalid
		res.Errors = []Problem{newProblem(res.Row, c.head.columnName("external_ref"), "external_ref", CodeRefConflict, in.ExternalRef, cert.Number)}
	default:
		res.Status = StatusExists
	}
	return res, nil
}

// refused turns the registry's refusal of a row into its result, or stops
// the run for an error that is not about the row.
func (c *checker) refused(res RowResult, in *registry.IssueInput, err error) (RowResult, error) {
	switch registry.ErrorCode(err) {
	case registry.EINVALID, registry.EFORBIDDEN, registry.EIDENTITY:
		res.Status = StatusInvalid
		res.Errors = []Problem{c.problemFromError(res.Row, in, err)}
		return res, nil
	}
	return res, err
}

// dupIndex remembers keys by a 64-bit keyed hash and the row that first
// had them: 12 bytes of payload per key (about 45 with the map's overhead,
// measured), so 500,000 rows with two keys each stay near 45 MB at worst, and
// derived external_refs, unique by construction, are not stored at all.
// The seed is random per pass, so a collision (odds about 1 in 10^8 for a
// million keys) cannot be arranged by the file's author; it would show as
// a spurious "repeats row N" that the clerk can see is wrong.
type dupIndex struct {
	seed maphash.Seed
	rows map[uint64]int32
}

func newDupIndex() *dupIndex {
	return &dupIndex{seed: maphash.MakeSeed(), rows: map[uint64]int32{}}
}

// add records key for row and reports the first row that had it, if any.
func (d *dupIndex) add(key string, row int) (int, bool) {
	h := maphash.String(d.seed, key)
	if first, ok := d.rows[h]; ok {
		return int(first), true
	}
	d.rows[h] = int32(row)
	return 0, false
}

// nameIndex remembers, by 64-bit keyed hashes, the name each ID number of
// the file first came with, so that a later row giving the same ID number
// under another name is caught before either is issued (the registry's
// identity check sees only what is stored). About 50 bytes a distinct ID
// number.
type nameIndex struct {
	seed maphash.Seed
	ids  map[uint64]nameAt
}

type nameAt struct {
	name uint64
	row  int32
}

func newNameIndex() *nameIndex {
	return &nameIndex{seed: maphash.MakeSeed(), ids: map[uint64]nameAt{}}
}

// add records the name of id at row, and reports the first row that gave
// id another name, if any.
func (x *nameIndex) add(id, name string, row int) (int, bool) {
	k := maphash.String(x.seed, id)
	h := maphash.String(x.seed, "name\x00"+name)
	if first, ok := x.ids[k]; ok {
		return int(first.row), first.name != h
	}
	x.ids[k] = nameAt{name: h, row: int32(row)}
	return 0, false
}
