package importer

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/skillreg/skillreg/registry"
)

// An upload holds full ID numbers in plaintext, so it lives only while its
// job runs: when the job ends (done, failed or cancelled at shutdown) the
// rows the report needs are copied with every ID number masked
// (maskedRowsFile) and the upload is deleted. Each job directory is locked
// by the process that runs it (where the platform has flock), so a process
// starting later deletes the directories of processes that died (a crash,
// a SIGKILL) and leaves those of running ones alone.

// uploadFile is the spooled upload in a job's directory.
const uploadFile = "upload"

// maskedRowsFile is the job's rows as the report shows them, one JSON
// object a line, ID numbers masked.
const maskedRowsFile = "rows.jsonl"

// maskedRow is one line of maskedRowsFile.
type maskedRow struct {
	N     int      `json:"n"`
	Cells []string `json:"c"`
}

// dropUpload keeps the report's rows with ID numbers masked and deletes
// the upload (and any temporary files the reader left beside it). The
// upload is deleted even if the copy fails; the report is then missing,
// not unmasked.
func (j *Job) dropUpload(out Outcome) error {
	err := j.keepMaskedRows(out)
	if rerr := os.Remove(j.src.Path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
		err = rerr
	}
	// excelize's spill files (excelize-*) are removed by the reader's
	// Close; any left by a failure go too.
	if spills, _ := filepath.Glob(filepath.Join(j.dir, "excelize-*")); len(spills) > 0 {
		for _, p := range spills {
			os.Remove(p)
		}
	}
	return err
}

func (j *Job) keepMaskedRows(out Outcome) error {
	rd, err := OpenSource(j.src)
	if err != nil {
		return err
	}
	defer rd.Close()
	f, err := os.OpenFile(filepath.Join(j.dir, maskedRowsFile), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 64<<10)
	enc := json.NewEncoder(w)
	idCols := map[int]bool{}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if row.Number == out.HeaderRow {
			idCols = idColumns(row.Cells)
		}
		cells := make([]string, len(row.Cells))
		for i, c := range row.Cells {
			if idCols[i] && row.Number > out.HeaderRow {
				cells[i] = maskIDCell(c)
			} else {
				cells[i] = registry.RedactIDNumbers(c) // an ID number in any other column
			}
		}
		if err := enc.Encode(maskedRow{N: row.Number, Cells: cells}); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// maskIDCell masks an ID-number cell as registry.MaskIDNumber does (first
// 6 and last 4 characters shown), counting characters rather than bytes,
// since a cell that is not a valid ID number may hold anything.
func maskIDCell(c string) string {
	r := []rune(strings.TrimSpace(c))
	if len(r) <= 10 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:6]) + strings.Repeat("*", len(r)-10) + string(r[len(r)-4:])
}

// idColumns returns the indexes of a header row's ID-number columns, for
// certificate and training files alike.
func idColumns(cells []string) map[int]bool {
	m := map[int]bool{}
	for i, c := range cells {
		k := headerKey(c)
		if headerFields[k] == "id_number" || trainingSet.fields[k] == "id_number" {
			m[i] = true
		}
	}
	return m
}

// maskedRowsReader reads maskedRowsFile as a Reader.
type maskedRowsReader struct {
	f   *os.File
	dec *json.Decoder
}

func openMaskedRows(j *Job) (*maskedRowsReader, error) {
	f, err := os.Open(filepath.Join(j.dir, maskedRowsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, registry.Errorf(registry.ENOTFOUND, "this import has no report: its file could not be read again when it ended")
	}
	if err != nil {
		return nil, err
	}
	return &maskedRowsReader{f: f, dec: json.NewDecoder(bufio.NewReaderSize(f, 64<<10))}, nil
}

func (r *maskedRowsReader) Next() (Row, error) {
	var m maskedRow
	if err := r.dec.Decode(&m); err != nil {
		return Row{}, err // io.EOF after the last
	}
	return Row{Number: m.N, Cells: m.Cells}, nil
}

func (r *maskedRowsReader) Close() error { return r.f.Close() }
