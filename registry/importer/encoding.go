package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/skillreg/skillreg/registry"
)

// ParseEncoding reads the encoding a user names for a CSV file: "" (let
// the importer decide), utf-8 (utf8), or gb18030 (gbk and gb2312 too:
// GB18030 is a superset of both). Anything else is EINVALID on
// "encoding".
func ParseEncoding(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", nil
	case "utf-8", "utf8":
		return EncodingUTF8, nil
	case "gb18030", "gbk", "gb2312":
		return EncodingGB18030, nil
	}
	return "", registry.FieldError("encoding", `encoding must be "utf-8" or "gb18030"`)
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// DecideEncoding decides how the CSV text in rs is encoded, reading all
// of it, and seeks it back to the start. want is what the user said
// (ParseEncoding): the file must then be valid in it, or the answer is
// EINVALID on "encoding" saying where it is not. With want empty:
//
//   - a UTF-8 byte-order mark, or text that is all ASCII, is UTF-8;
//   - text that is valid in only one of UTF-8 and GB18030 is in that one;
//   - text valid in both (GB18030 names whose bytes happen to form UTF-8,
//     as 学员 D1A7 D4B1 reads ѧԱ) is read both ways: the reading in which
//     the header row (a name column among the first rows) is found, when
//     it is found in only one; else the reading in which every name
//     passes the name rule (registry.NormalizeName), when the other's do
//     not all pass; otherwise the file is refused (EINVALID on "encoding")
//     with a name in each reading, asking for encoding=utf-8 or
//     encoding=gb18030. The importer never guesses between two clean
//     readings: a signed certificate cannot be corrected quietly.
func DecideEncoding(rs io.ReadSeeker, want string) (string, error) {
	head := make([]byte, 3)
	n, err := io.ReadFull(rs, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	head = head[:n]
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return "", registry.FieldError("file", "the file is UTF-16 text (Excel's \"Unicode text\"); save it as CSV UTF-8 or .xlsx")
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	sc, err := scanText(rs)
	if err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	switch want {
	case EncodingUTF8:
		if !sc.utf8 {
			return "", registry.FieldError("encoding", "the file is not valid UTF-8 text (first bad byte at offset %d); upload it with encoding=gb18030 or save it as CSV UTF-8", sc.badUTF8)
		}
		return EncodingUTF8, nil
	case EncodingGB18030:
		if !sc.gb18030 {
			return "", registry.FieldError("encoding", "the file is not valid GB18030 text (first bad byte near offset %d); upload it with encoding=utf-8 or save it as CSV UTF-8", sc.badGB)
		}
		return EncodingGB18030, nil
	case "":
	default:
		return "", registry.FieldError("encoding", `encoding must be "utf-8" or "gb18030"`)
	}
	switch {
	case bytes.HasPrefix(head, utf8BOM) && sc.utf8, sc.ascii, sc.utf8 && !sc.gb18030:
		return EncodingUTF8, nil
	case sc.gb18030 && !sc.utf8:
		return EncodingGB18030, nil
	case !sc.utf8 && !sc.gb18030:
		return "", registry.FieldError("file", "the file is neither UTF-8 nor GB18030 text (a bad byte at offset %d); save it as CSV UTF-8 or .xlsx", sc.badUTF8)
	}
	u, err := readNames(rs, EncodingUTF8)
	if err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	g, err := readNames(rs, EncodingGB18030)
	if err != nil {
		return "", err
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	switch {
	case u.header && !g.header, u.plausible() && !g.plausible():
		return EncodingUTF8, nil
	case g.header && !u.header, g.plausible() && !u.plausible():
		return EncodingGB18030, nil
	}
	return "", registry.FieldError("encoding",
		"the file reads cleanly both as UTF-8 (a name reads %s) and as GB18030 (%s), and the names do not tell which is meant; upload it again with encoding=utf-8 or encoding=gb18030 (文件既可按 UTF-8 也可按 GB18030 读出，无法判断；请指定编码)",
		u.describe(), g.describe())
}

// textScan is what one pass over a file's bytes found.
type textScan struct {
	ascii, utf8, gb18030 bool
	badUTF8, badGB       int64 // offset of the first invalid byte
}

// scanText checks every byte of r for UTF-8 and GB18030 validity, in
// chunks, so that memory does not grow with the file.
func scanText(r io.Reader) (textScan, error) {
	sc := textScan{ascii: true, utf8: true, gb18030: true, badUTF8: -1, badGB: -1}
	var gb gbState
	const chunk = 64 << 10
	buf := make([]byte, chunk+utf8.UTFMax)
	carry := 0
	var off int64 // offset of buf[0]
	for {
		n, err := r.Read(buf[carry : carry+chunk])
		data := buf[:carry+n]
		fresh := data[carry:]
		if sc.gb18030 {
			if i := gb.feed(fresh); i >= 0 {
				sc.gb18030, sc.badGB = false, off+int64(carry+i)
			}
		}
		if sc.ascii {
			for _, b := range fresh {
				if b >= utf8.RuneSelf {
					sc.ascii = false
					break
				}
			}
		}
		end := len(data)
		if err == nil {
			// Keep an incomplete last character for the next chunk.
			i := len(data) - 1
			for i >= 0 && len(data)-i < utf8.UTFMax && !utf8.RuneStart(data[i]) {
				i--
			}
			if i >= 0 && !utf8.FullRune(data[i:]) {
				end = i
			}
		}
		if sc.utf8 && !utf8.Valid(data[:end]) {
			sc.utf8 = false
			k := 0
			for k < end {
				r, size := utf8.DecodeRune(data[k:end])
				if r == utf8.RuneError && size <= 1 {
					break
				}
				k += size
			}
			sc.badUTF8 = off + int64(k)
		}
		off += int64(end)
		carry = copy(buf, data[end:])
		switch {
		case errors.Is(err, io.EOF):
			if sc.gb18030 && gb.pending() {
				sc.gb18030, sc.badGB = false, off+int64(carry)
			}
			return sc, nil
		case err != nil:
			return sc, err
		}
		if !sc.utf8 && !sc.gb18030 && !sc.ascii {
			return sc, nil
		}
	}
}

// gbState checks GB18030 byte structure across chunks: one byte below
// 0x80; two bytes, a lead 0x81-0xFE and a trail 0x40-0x7E or 0x80-0xFE;
// or four, 0x81-0xFE, 0x30-0x39, 0x81-0xFE, 0x30-0x39, within the range
// that maps to Unicode (up to 0x8431A439 for the BMP, 0x90308130 to
// 0xE3329A35 for the supplementary planes).
type gbState struct {
	seq [4]byte
	n   int
}

func (g *gbState) pending() bool { return g.n > 0 }

// feed checks p and returns the index in p of the byte that breaks the
// structure, or -1.
func (g *gbState) feed(p []byte) int {
	for i, b := range p {
		switch g.n {
		case 0:
			switch {
			case b < 0x80:
			case b == 0x80 || b == 0xFF:
				return i
			default:
				g.seq[0], g.n = b, 1
			}
		case 1:
			switch {
			case b >= 0x40 && b <= 0x7E || b >= 0x80 && b <= 0xFE:
				g.n = 0
			case b >= 0x30 && b <= 0x39:
				g.seq[1], g.n = b, 2
			default:
				return i
			}
		case 2:
			if b < 0x81 || b == 0xFF {
				return i
			}
			g.seq[2], g.n = b, 3
		case 3:
			if b < 0x30 || b > 0x39 {
				return i
			}
			g.seq[3], g.n = b, 0
			v := uint32(g.seq[0])<<24 | uint32(g.seq[1])<<16 | uint32(g.seq[2])<<8 | uint32(b)
			if v > 0x8431A439 && (v < 0x90308130 || v > 0xE3329A35) {
				return i
			}
		}
	}
	return -1
}

// nameReading is a file's names as one encoding reads them.
type nameReading struct {
	header bool   // a header with a name column was found
	names  int    // non-empty name cells
	bad    int    // of which the name rule refuses
	sample string // the first name that the rule refuses, else the first name
}

func (n nameReading) plausible() bool { return n.header && n.names > 0 && n.bad == 0 }

// describe shows the reading's sample name for an error message.
func (n nameReading) describe() string {
	if !n.header {
		return "(no header with a name column)"
	}
	return strconv.Quote(n.sample)
}

// nameHeaders are the header keys (headerKey) of the name column of
// either kind of import.
var nameHeaders = func() map[string]bool {
	m := map[string]bool{}
	for _, cols := range [][]Column{Columns, TrainingColumns} {
		for _, c := range cols {
			if c.Field != "holder_name" && c.Field != "name" {
				continue
			}
			m[headerKey(c.Field)], m[headerKey(c.Header)] = true, true
			for _, a := range c.Aliases {
				m[headerKey(a)] = true
			}
		}
	}
	return m
}()

// readNames reads every name cell of the CSV text in r as encoding enc:
// the header is the first of the first headerSearchRows non-blank rows
// that has a name column.
func readNames(r io.Reader, enc string) (nameReading, error) {
	var out nameReading
	c := newCSV(decodeText(r, enc))
	col, seen := -1, 0
	for {
		rec, err := c.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			continue // a quoting error is a row error in the import itself
		}
		if err != nil {
			return out, err
		}
		if col < 0 {
			if (Row{Cells: rec}).blank() {
				continue
			}
			if seen++; seen > headerSearchRows {
				return out, nil
			}
			for i, cell := range rec {
				if nameHeaders[headerKey(cell)] {
					col, out.header = i, true
					break
				}
			}
			continue
		}
		if col >= len(rec) {
			continue
		}
		name := strings.TrimSpace(rec[col])
		if name == "" {
			continue
		}
		out.names++
		if out.sample == "" {
			out.sample = name
		}
		if _, err := registry.NormalizeName(name); err != nil {
			if out.bad == 0 {
				out.sample = name
			}
			out.bad++
		}
	}
}

// decodeText returns r's text as UTF-8: without a byte-order mark for
// UTF-8, through the GB18030 decoder for GB18030.
func decodeText(r io.Reader, enc string) io.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if enc == EncodingGB18030 {
		return transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder())
	}
	if head, _ := br.Peek(3); bytes.Equal(head, utf8BOM) {
		br.Discard(3)
	}
	return br
}

// newCSV returns a CSV reader of text whose delimiter is a comma, or a tab
// or semicolon when the first line has one of those and no comma.
func newCSV(text io.Reader) *csv.Reader {
	tb := bufio.NewReaderSize(text, 64<<10)
	first, _ := tb.Peek(tb.Size())
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	c := csv.NewReader(tb)
	c.FieldsPerRecord = -1
	if !bytes.ContainsRune(first, ',') {
		switch {
		case bytes.ContainsRune(first, '\t'):
			c.Comma = '\t'
		case bytes.ContainsRune(first, ';'):
			c.Comma = ';'
		}
	}
	return c
}
