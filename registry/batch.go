package registry

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// MaxBatchItems is the most items one batch verification may hold.
const MaxBatchItems = 1000

// maxBatchTokenBytes bounds one token of a batch, as verify.MaxTokenBytes
// bounds a single one.
const maxBatchTokenBytes = 4096

// BatchItem is one certificate to check: a token, or a number and name.
type BatchItem struct {
	Token  string `json:"token,omitempty"`
	Number string `json:"number,omitempty"`
	Name   string `json:"name,omitempty"`
}

// ByNumber reports whether the item is a number+name lookup.
func (it BatchItem) ByNumber() bool { return it.Token == "" }

// check validates one item; where names it in the error ("items[3]" or
// "row 4").
func (it *BatchItem) check(where string, field func(string) string) error {
	it.Token, it.Number = strings.TrimSpace(it.Token), strings.TrimSpace(it.Number)
	switch {
	case it.Token != "" && (it.Number != "" || strings.TrimSpace(it.Name) != ""):
		return FieldError(field("token"), "%s: send either a token, or number and name, not both", where)
	case it.Token != "":
		if len(it.Token) > maxBatchTokenBytes {
			return FieldError(field("token"), "%s: a token has at most %d bytes", where, maxBatchTokenBytes)
		}
		return nil
	case it.Number == "" && strings.TrimSpace(it.Name) == "":
		return FieldError(field("token"), "%s: empty: send a token, or number and name", where)
	case it.Number == "":
		return FieldError(field("number"), "%s: the certificate number is missing", where)
	case len(it.Number) > 64:
		return FieldError(field("number"), "%s: a certificate number has at most 64 characters", where)
	}
	name := normalizeName(it.Name)
	switch n := utf8.RuneCountInString(name); {
	case !utf8.ValidString(it.Name):
		return FieldError(field("name"), "%s: the name is not valid UTF-8", where)
	case n == 0:
		return FieldError(field("name"), "%s: the holder's name is missing", where)
	case n > MaxLookupNameRunes:
		return FieldError(field("name"), "%s: a name may have at most %d characters", where, MaxLookupNameRunes)
	}
	return nil
}

func tooMany(n int) error {
	return Errorf(EINVALID, "a batch holds at most %d items; this one has %d: split it", MaxBatchItems, n)
}

// ParseBatchJSON reads {"items":[{"token":...} | {"number":...,"name":...}, ...]}.
// Every problem is an EINVALID error naming the item (items[i], from 0)
// and its field; unknown members are refused rather than ignored, so that
// a misspelt "nmae" does not turn into a lookup without a name.
func ParseBatchJSON(b []byte) ([]BatchItem, error) {
	var doc struct {
		Items []json.RawMessage `json:"items"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, FieldError("items", `the body must be a JSON object {"items":[...]}: %v`, jsonProblem(err))
	}
	if dec.More() {
		return nil, FieldError("items", "the body has data after the JSON object")
	}
	if len(doc.Items) == 0 {
		return nil, FieldError("items", "the batch has no items")
	}
	if len(doc.Items) > MaxBatchItems {
		return nil, tooMany(len(doc.Items))
	}
	items := make([]BatchItem, len(doc.Items))
	for i, raw := range doc.Items {
		where := fmt.Sprintf("items[%d]", i)
		field := func(f string) string { return where + "." + f }
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&items[i]); err != nil {
			return nil, FieldError(where, "%s: want {\"token\"} or {\"number\",\"name\"}: %v", where, jsonProblem(err))
		}
		if err := items[i].check(where, field); err != nil {
			return nil, err
		}
	}
	return items, nil
}

// jsonProblem shortens encoding/json's messages to what a client needs.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("bad JSON at byte %d", se.Offset)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// ParseBatchCSV reads a CSV file whose first row names the columns: token,
// or number and name, or all three (then each row fills either token, or
// number and name). Column names are matched without regard to case or
// surrounding space; a UTF-8 BOM (as Excel writes) is skipped. Errors name
// the row (the header is row 1) and the column.
func ParseBatchCSV(b []byte) ([]BatchItem, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(b))
	r.ReuseRecord = false
	header, err := r.Read()
	if err == io.EOF {
		return nil, FieldError("header", "the CSV is empty: its first row must name the columns (token, or number,name)")
	}
	if err != nil {
		return nil, csvProblem(err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch h {
		case "token", "number", "name":
		default:
			return nil, FieldError("header", "row 1, column %d: unknown column %q: the columns are token, or number and name", i+1, truncateText(h, 32))
		}
		if _, dup := cols[h]; dup {
			return nil, FieldError("header", "row 1: column %q appears twice", h)
		}
		cols[h] = i
	}
	_, hasNumber := cols["number"]
	_, hasName := cols["name"]
	_, hasToken := cols["token"]
	if hasNumber != hasName {
		return nil, FieldError("header", "row 1: number and name go together: add the missing column")
	}
	if !hasToken && !hasNumber {
		return nil, FieldError("header", "row 1: name the columns: token, or number,name")
	}
	get := func(rec []string, col string) string {
		if i, ok := cols[col]; ok {
			return rec[i]
		}
		return ""
	}
	var items []BatchItem
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvProblem(err)
		}
		row, _ := r.FieldPos(0)
		if len(items) == MaxBatchItems {
			return nil, Errorf(EINVALID, "a batch holds at most %d items; this CSV has more (row %d is item %d): split it", MaxBatchItems, row, MaxBatchItems+1)
		}
		it := BatchItem{Token: get(rec, "token"), Number: get(rec, "number"), Name: get(rec, "name")}
		where := fmt.Sprintf("row %d", row)
		if err := it.check(where, func(f string) string { return where + ", column " + f }); err != nil {
			return nil, err
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return nil, FieldError("items", "the CSV has a header but no rows")
	}
	return items, nil
}

func csvProblem(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return FieldError(fmt.Sprintf("row %d", pe.StartLine), "row %d, column %d: %v", pe.StartLine, pe.Column, pe.Err)
	}
	return FieldError("body", "the CSV cannot be read: %v", err)
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// VerifyBatch checks every item, in order, and answers one result per
// item: a token as Verify does, a number and name as Lookup does (same
// shapes, same not_found for a wrong name or an unknown number). Items
// come from ParseBatchJSON or ParseBatchCSV. The error is only for
// internal failures; a batch is read-only, so a failure half-way leaves
// nothing behind.
func (r *Registry) VerifyBatch(ctx context.Context, items []BatchItem) ([]LookupResult, error) {
	if len(items) > MaxBatchItems {
		return nil, tooMany(len(items))
	}
	out := make([]LookupResult, len(items))
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !it.ByNumber() {
			res, err := r.Verify(ctx, it.Token)
			if err != nil {
				return nil, err
			}
			out[i] = LookupResult{VerifyResult: res}
			continue
		}
		res, err := r.Lookup(ctx, it.Number, it.Name, "")
		if err != nil {
			if ErrorCode(err) == EINVALID {
				return nil, FieldError(fmt.Sprintf("items[%d].%s", i, ErrorField(err)), "item %d: %s", i, ErrorMessage(err))
			}
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}
