package importer_test

import (
	"archive/zip"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
)

// benchRows is the size of the benchmark files; SKILLREG_BENCH_ROWS
// overrides it for a quick run.
func benchRows(def int) int {
	if n, err := strconv.Atoi(os.Getenv("SKILLREG_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return def
}

// benchOccupations are within the bench issuer's scope (6-18, 4-04-05).
var benchOccupations = []string{"6-18-01-01", "6-18-01-02", "6-18-01-03", "4-04-05-05"}

// benchRow is the i-th generated row: a distinct person, an occupation and
// a level of the issuer's scope.
func benchRow(i int) (name, id, occ string, level int) {
	return registry.DemoName(i), idFor(i), benchOccupations[i%len(benchOccupations)], 2 + i%4
}

// writeBenchCSV writes n generated rows as CSV and returns the Source.
func writeBenchCSV(tb testing.TB, dir string, n int) importer.Source {
	return writeBenchCSVRange(tb, dir, 0, n)
}

// writeBenchCSVRange writes the generated rows from to to-1.
func writeBenchCSVRange(tb testing.TB, dir string, from, to int) importer.Source {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("bench-%d.csv", from))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(f, h))
	w.WriteString(csvHeader)
	for i := from; i < to; i++ {
		name, id, occ, level := benchRow(i)
		fmt.Fprintf(w, "%s,%s,%s,%d,社会化职业技能鉴定,2026-01-05,\n", name, id, occ, level)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return importer.Source{Path: path, Format: importer.FormatCSV, SHA256: hex.EncodeToString(h.Sum(nil))}
}

// writeBenchXLSX writes n generated rows as .xlsx with excelize's stream
// writer and returns the Source.
func writeBenchXLSX(tb testing.TB, dir string, n int) importer.Source {
	tb.Helper()
	path := filepath.Join(dir, "bench.xlsx")
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	head := []any{"姓名", "身份证号", "职业编码", "等级", "评价类型", "发证日期", "外部编号"}
	if err := sw.SetRow("A1", head); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		name, id, occ, level := benchRow(i)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{name, id, occ, level, "社会化职业技能鉴定", "2026-01-05", ""}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return importer.Source{Path: path, Format: importer.FormatXLSX, SHA256: hex.EncodeToString(sum[:])}
}

// writeBenchXLSXShared writes n generated rows as an .xlsx whose text is
// in a shared-string table, as Excel itself saves a workbook (excelize's
// stream writer uses inline strings instead). The table then holds every
// name and ID number: the case where a reader that loads the table costs
// the most memory. The zip is written as a stream, so the generator itself
// stays small.
func writeBenchXLSXShared(tb testing.TB, dir string, n int) importer.Source {
	tb.Helper()
	path := filepath.Join(dir, "bench-shared.xlsx")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	z := zip.NewWriter(f)
	put := func(name, content string) {
		w, err := z.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, content)
	}
	put("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	put("_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	put("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="证书" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	put("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)

	// Shared strings: the constant values once, then a name and an ID
	// number per row, in row order.
	constants := append([]string{"姓名", "身份证号", "职业编码", "等级", "评价类型", "发证日期", "社会化职业技能鉴定", "2026-01-05"}, benchOccupations...)
	index := map[string]int{}
	sst, err := z.Create("xl/sharedStrings.xml")
	if err != nil {
		tb.Fatal(err)
	}
	sw := bufio.NewWriter(sst)
	fmt.Fprintf(sw, `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">`, len(constants)+2*n, len(constants)+2*n)
	for i, c := range constants {
		index[c] = i
		fmt.Fprintf(sw, "<si><t>%s</t></si>", c)
	}
	for i := range n {
		name, id, _, _ := benchRow(i)
		fmt.Fprintf(sw, "<si><t>%s</t></si><si><t>%s</t></si>", name, id)
	}
	sw.WriteString("</sst>")
	sw.Flush()

	sheet, err := z.Create("xl/worksheets/sheet1.xml")
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(sheet)
	w.WriteString(`<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">`)
	for c, h := range constants[:6] {
		fmt.Fprintf(w, `<c r="%c1" t="s"><v>%d</v></c>`, 'A'+c, index[h])
	}
	w.WriteString(`</row>`)
	for i := range n {
		_, _, occ, level := benchRow(i)
		r := i + 2
		base := len(constants) + 2*i
		fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="s"><v>%d</v></c><c r="B%d" t="s"><v>%d</v></c><c r="C%d" t="s"><v>%d</v></c><c r="D%d"><v>%d</v></c><c r="E%d" t="s"><v>%d</v></c><c r="F%d" t="s"><v>%d</v></c></row>`,
			r, r, base, r, base+1, r, index[occ], r, level, r, index["社会化职业技能鉴定"], r, index["2026-01-05"])
	}
	w.WriteString(`</sheetData></worksheet>`)
	w.Flush()
	if err := z.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return importer.Source{Path: path, Format: importer.FormatXLSX, SHA256: hex.EncodeToString(sum[:])}
}

// BenchmarkImport100k imports 100,000 generated CSV rows into a fresh
// SQLite registry and, in the same run, writes the same rows straight to
// another fresh store with Store.CreateCertificate (no parsing, checks,
// duplicate lookups, encryption or hashing in the timed part; the same
// external_refs), and reports certificates per second for both and the
// ratio. The work alternates between the two in slices of a tenth (ten
// files of 10,000 rows against ten runs of 10,000 writes), so that a
// change in the machine's load or the disk's speed during the run weighs
// on both alike; both databases grow to 100,000 certificates.
//
//	go test -run '^$' -bench BenchmarkImport100k -benchtime 1x ./registry/importer/
func BenchmarkImport100k(b *testing.B) {
	n := benchRows(100_000)
	const slices = 10
	ctx := context.Background()
	var importSecs, rawSecs float64
	for range b.N {
		b.StopTimer()
		e, raw := newEnv(b), newEnv(b)
		vault, err := registry.NewVault(make([]byte, 32))
		if err != nil {
			b.Fatal(err)
		}
		for s := range slices {
			from, to := s*n/slices, (s+1)*n/slices
			src := writeBenchCSVRange(b, e.dir, from, to)
			certs := make([]*registry.Certificate, 0, to-from)
			prefixes := make([]string, 0, to-from)
			for i := from; i < to; i++ {
				name, id, occ, level := benchRow(i)
				cipher, _ := vault.EncryptID(id)
				certs = append(certs, &registry.Certificate{IssuerID: raw.user.IssuerID, HolderName: name, HolderIDMasked: registry.MaskIDNumber(id),
					HolderIDHash: vault.HashID(id), HolderIDCipher: cipher, OccupationCode: occ, Level: registry.Level(level),
					Channel: registry.ChannelSocial, IssuedOn: "2026-01-05", ExternalRef: fmt.Sprintf("%s:%d", src.FileRef(), i-from+2),
					Status: registry.StatusValid, KeyID: "k1", CreatedAt: time.Now().UTC()})
				prefixes = append(prefixes, registry.NumberPrefix(raw.user.IssuerID, 2026, registry.Level(level)))
			}

			b.StartTimer()
			start := time.Now()
			out, err := importer.Run(ctx, e.reg, e.user, src, importer.Options{}, nil, nil)
			importSecs += time.Since(start).Seconds()
			b.StopTimer()
			if err != nil || out.Issued != to-from {
				b.Fatalf("import: %+v %v", out.Counts, err)
			}

			b.StartTimer()
			start = time.Now()
			for i, c := range certs {
				if _, err := raw.store.CreateCertificate(ctx, prefixes[i], c); err != nil {
					b.Fatal(err)
				}
			}
			rawSecs += time.Since(start).Seconds()
			b.StopTimer()
		}
	}
	imp, rawRate := float64(n*b.N)/importSecs, float64(n*b.N)/rawSecs
	b.ReportMetric(imp, "import-certs/s")
	b.ReportMetric(rawRate, "raw-certs/s")
	b.ReportMetric(imp/rawRate, "import/raw")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkImportPeakMemory imports 500,000 generated rows (CSV; .xlsx with
// inline strings with SKILLREG_BENCH_FORMAT=xlsx, or with a shared-string
// table as Excel writes it with xlsx-shared; SKILLREG_BENCH_DRYRUN=1 for a
// dry run)
// and reports the peak Go heap in use, sampled every 10 ms, and the peak
// of the runtime's total memory from the OS (Sys). Run it alone, under
// /usr/bin/time -v for the process's maximum resident set:
//
//	go test -c -o /tmp/importer.test ./registry/importer/
//	/usr/bin/time -v /tmp/importer.test -test.run '^$' -test.bench BenchmarkImportPeakMemory -test.benchtime 1x
func BenchmarkImportPeakMemory(b *testing.B) {
	n := benchRows(500_000)
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		var src importer.Source
		switch os.Getenv("SKILLREG_BENCH_FORMAT") {
		case "xlsx":
			src = writeBenchXLSX(b, e.dir, n)
		case "xlsx-shared":
			src = writeBenchXLSXShared(b, e.dir, n)
		default:
			src = writeBenchCSV(b, e.dir, n)
		}
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		var peakHeap, peakSys atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			var m runtime.MemStats
			for {
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peakHeap.Load() {
					peakHeap.Store(m.HeapInuse)
				}
				if m.Sys > peakSys.Load() {
					peakSys.Store(m.Sys)
				}
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		b.StartTimer()
		start := time.Now()
		out, err := importer.Run(ctx, e.reg, e.user, src, importer.Options{DryRun: os.Getenv("SKILLREG_BENCH_DRYRUN") == "1"}, func(importer.RowResult) error { return nil }, nil)
		secs := time.Since(start).Seconds()
		b.StopTimer()
		close(stop)
		<-done
		if err != nil || out.Issued+out.Valid != n {
			b.Fatalf("import: %+v %v", out.Counts, err)
		}
		b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MB")
		b.ReportMetric(float64(peakSys.Load())/(1<<20), "peak-sys-MB")
		b.ReportMetric(float64(base.HeapInuse)/(1<<20), "start-heap-MB")
		b.ReportMetric(float64(n)/secs, "certs/s")
		b.ReportMetric(0, "ns/op")
	}
}

// TestBenchFiles: the generated files the benchmarks read are valid and
// import as expected (a small dry run of each).
func TestBenchFiles(t *testing.T) {
	e := newEnv(t)
	for name, src := range map[string]importer.Source{
		"csv":         writeBenchCSV(t, e.dir, 50),
		"xlsx":        writeBenchXLSX(t, e.dir, 50),
		"xlsx-shared": writeBenchXLSXShared(t, e.dir, 50),
	} {
		out, rows := e.run(t, src, importer.Options{DryRun: true})
		if out.Valid != 50 || out.Errors != 0 || rows[49].Row != 51 {
			t.Errorf("%s: %+v %+v", name, out.Counts, rows[0])
		}
	}
}
