// Package importer turns a training centre's spreadsheet (.xlsx, or .csv in
// UTF-8 or GB18030) into certificates: it streams the rows, maps the
// Chinese (or English) column headers, checks every row with the
// registry's own rules, and issues the good ones idempotently. It knows
// nothing of HTTP; handlers and the import command drive it through
// Manager.
//
// Memory stays bounded by design: rows are read one at a time from a file
// on disk (an upload is spooled first), per-row results go to a file, and
// the only state that grows with the row count is the duplicate detector,
// one 8-byte hash and a 4-byte row number per key (see dupIndex).
package importer

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/skillreg/skillreg/registry"
)

// Format is a spreadsheet file format.
type Format string

// The formats an import reads.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// Encodings a CSV file may be in, as reported by a csvReader.
const (
	EncodingUTF8    = "utf-8"
	EncodingGB18030 = "gb18030"
)

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls (and encrypted .xlsx)
)

// DetectFormat decides a file's format from its first bytes, and from its
// name only where the bytes cannot tell (a CSV has no signature). A legacy
// .xls workbook or a UTF-16 text export is EINVALID with a message that says
// how to save the file instead.
func DetectFormat(name string, head []byte) (Format, error) {
	lower := strings.ToLower(name)
	switch {
	case bytes.HasPrefix(head, zipMagic):
		if strings.HasSuffix(lower, ".csv") {
			return "", registry.FieldError("file", "the file is named .csv but is a zip (Excel workbook?); name it .xlsx")
		}
		return FormatXLSX, nil
	case bytes.HasPrefix(head, oleMagic):
		return "", registry.FieldError("file", "this is an old .xls workbook (or a password-protected one); in Excel choose 另存为 (Save As) .xlsx or CSV UTF-8 and upload that")
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "", registry.FieldError("file", "the file is UTF-16 text (Excel's \"Unicode text\"); save it as CSV UTF-8 or .xlsx")
	case strings.HasSuffix(lower, ".xlsx"):
		return "", registry.FieldError("file", "the file is named .xlsx but is not an Excel workbook")
	case strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".txt") || lower == "":
		return FormatCSV, nil
	}
	return "", registry.FieldError("file", "upload a .xlsx workbook or a .csv file")
}

// Row is one row as read. Number is the 1-based row number a spreadsheet
// program shows (so a clerk can find it); Err is set for a row that could
// not be read (a CSV quoting error), and Cells is then empty.
type Row struct {
	Number int
	Cells  []string
	Err    error
}

// blank reports whether every cell of the row is empty or space.
func (r Row) blank() bool {
	for _, c := range r.Cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return r.Err == nil
}

// Reader streams the rows of one sheet, header included, one at a time.
type Reader interface {
	// Next returns the next row, or io.EOF after the last. Any other error
	// means the file cannot be read further.
	Next() (Row, error)
	// Close releases the file and any temporary files.
	Close() error
}

// maxCellBytes bounds one cell: no field of a certificate is longer, and
// a longer cell is reported rather than carried around.
const maxCellBytes = 1024

// Open opens the spreadsheet at path for reading in format f; a CSV's
// encoding is decided from its content (DecideEncoding).
func Open(path string, f Format) (Reader, error) {
	return OpenSource(Source{Path: path, Format: f})
}

// OpenSource opens src for reading. An xlsx is read from its first
// worksheet; a CSV in src.Encoding, or, when that is empty, in the
// encoding DecideEncoding finds.
func OpenSource(src Source) (Reader, error) {
	switch src.Format {
	case FormatXLSX:
		return openXLSX(src.Path)
	case FormatCSV:
		fh, err := os.Open(src.Path)
		if err != nil {
			return nil, err
		}
		enc := src.Encoding
		if enc == "" {
			enc, err = DecideEncoding(fh, "")
			if err != nil {
				fh.Close()
				return nil, err
			}
		}
		r := newCSVReader(fh, enc)
		r.closer = fh
		return r, nil
	}
	return nil, registry.FieldError("file", "unknown format %q", src.Format)
}

// CSVReader reads CSV text in UTF-8 (with or without a byte-order mark)
// or GB18030 (a superset of GBK and GB2312, which is what Excel in China
// writes as "CSV"), as DecideEncoding decides. The delimiter is a comma,
// or a tab or semicolon when the first line has one of those and no
// comma.
type CSVReader struct {
	csv      *csv.Reader
	closer   io.Closer
	encoding string
	row      int // number of the last row returned
	lastLine int // line on which the last record ended
}

// NewCSVReader decides rs's encoding (DecideEncoding: a pass over it,
// then it seeks back to the start) and returns a reader of its rows.
func NewCSVReader(rs io.ReadSeeker) (*CSVReader, error) {
	enc, err := DecideEncoding(rs, "")
	if err != nil {
		return nil, err
	}
	return newCSVReader(rs, enc), nil
}

// newCSVReader reads r as CSV text in enc, which the caller decided.
func newCSVReader(r io.Reader, enc string) *CSVReader {
	return &CSVReader{csv: newCSV(decodeText(r, enc)), encoding: enc}
}

// Encoding returns EncodingUTF8 or EncodingGB18030.
func (r *CSVReader) Encoding() string { return r.encoding }

// Next returns the next record. Row numbers count blank lines, as a
// spreadsheet program opening the file would show them, and a record with
// a quoted line break is one row.
func (r *CSVReader) Next() (Row, error) {
	rec, err := r.csv.Read()
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe) && !errors.Is(err, csv.ErrFieldCount):
		skipped := max(0, pe.StartLine-r.lastLine-1)
		r.row += 1 + skipped
		r.lastLine = pe.Line
		return Row{Number: r.row, Err: fmt.Errorf("CSV: %w", pe.Err)}, nil
	case err != nil && !errors.Is(err, csv.ErrFieldCount):
		return Row{}, err
	}
	line, _ := r.csv.FieldPos(0)
	r.row += 1 + max(0, line-r.lastLine-1)
	last, _ := r.csv.FieldPos(len(rec) - 1)
	r.lastLine = last + strings.Count(rec[len(rec)-1], "\n")
	return Row{Number: r.row, Cells: clip(rec)}, nil
}

// Close closes the underlying file, if Open opened it.
func (r *CSVReader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// clip shortens over-long cells so that nothing downstream holds more than
// maxCellBytes per cell; the parser reports them as too long.
func clip(cells []string) []string {
	for i, c := range cells {
		if len(c) > maxCellBytes {
			cells[i] = c[:maxCellBytes+1]
		}
	}
	return cells
}

// xlsxReader reads the first worksheet of a workbook with excelize's row
// iterator, which streams the sheet XML. Sheets and shared-string tables
// over xlsxSpillBytes are unzipped to temporary files and read from
// there (the shared strings through an offset index), so that a 500,000-row
// workbook, whose shared-string table holds every name and ID number, is
// not parsed into memory.
type xlsxReader struct {
	file *excelize.File
	rows *excelize.Rows
	n    int
}

const (
	xlsxSpillBytes = 1 << 20
	// xlsxMaxUnzipped refuses zip bombs: no honest 100 MiB workbook
	// unpacks to more.
	xlsxMaxUnzipped = 2 << 30
)

func openXLSX(path string) (*xlsxReader, error) {
	// Sheets too large for memory spill into temporary files beside the
	// upload, in the job's directory, so that they go with it.
	f, err := excelize.OpenFile(path, excelize.Options{UnzipXMLSizeLimit: xlsxSpillBytes, UnzipSizeLimit: xlsxMaxUnzipped, TmpDir: filepath.Dir(path)})
	if err != nil {
		return nil, registry.FieldError("file", "the workbook cannot be read (%v); save it again as .xlsx or CSV UTF-8", err)
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, registry.FieldError("file", "the workbook has no worksheet")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, registry.FieldError("file", "the first worksheet cannot be read: %v", err)
	}
	return &xlsxReader{file: f, rows: rows}, nil
}

// Next returns the next row; rows the sheet leaves out come back empty, so
// that Number matches what Excel shows. Cells are raw values: a date cell
// is its serial number, which the issued_on parser understands.
func (r *xlsxReader) Next() (Row, error) {
	if !r.rows.Next() {
		if err := r.rows.Error(); err != nil {
			return Row{}, registry.FieldError("file", "the worksheet cannot be read after row %d: %v", r.n, err)
		}
		return Row{}, io.EOF
	}
	r.n++
	cells, err := r.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return Row{Number: r.n, Err: err}, nil
	}
	return Row{Number: r.n, Cells: clip(cells)}, nil
}

func (r *xlsxReader) Close() error {
	err := r.rows.Close()
	if cerr := r.file.Close(); err == nil {
		err = cerr
	}
	return err
}
