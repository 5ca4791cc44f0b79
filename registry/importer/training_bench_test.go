package importer_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/importer"
)

// benchTrainingGroups are the target groups the generated rows cycle
// through, as the clerk writes them.
var benchTrainingGroups = []string{"城镇登记失业人员", "农民工", "被征地农民", "高校毕业生", "新成长劳动力", "企业职工", "脱贫/低保人员"}

// writeTrainingCSV writes n generated training rows (50 trainees a class)
// and returns the Source.
func writeTrainingCSV(tb testing.TB, dir string, n int) importer.Source {
	tb.Helper()
	path := filepath.Join(dir, "training.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	w := bufio.NewWriter(io.MultiWriter(f, h))
	w.WriteString(trainingCSVHeader)
	for i := range n {
		fmt.Fprintf(w, "%s,%s,,%s,6-18-01-01,四级/中级工,就业技能培训,120,2026-01-05,2026-02-20,C%04d,是,,1200.00,个人\n",
			registry.DemoName(i), idFor(i), benchTrainingGroups[i%len(benchTrainingGroups)], i/50)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return importer.Source{Path: path, Format: importer.FormatCSV, SHA256: hex.EncodeToString(h.Sum(nil))}
}

// BenchmarkTrainingImport registers training records on the embedded
// store (SQLite, every record synced before the next): a spreadsheet of
// 10,000 rows (SKILLREG_BENCH_ROWS to change) through the training
// import, and JSON batches of 1,000 through TrainingBatch, each into a
// fresh registry. It reports rows per second of each.
//
//	go test -run '^$' -bench BenchmarkTrainingImport -benchtime 1x ./registry/importer/
func BenchmarkTrainingImport(b *testing.B) {
	n := benchRows(10_000)
	ctx := context.Background()
	var fileSecs, batchSecs float64
	for range b.N {
		b.StopTimer()
		e := newEnv(b)
		src := writeTrainingCSV(b, e.dir, n)
		b.StartTimer()
		start := time.Now()
		out, err := importer.Run(ctx, e.reg, e.user, src, importer.Options{Kind: importer.KindTraining}, nil, nil)
		fileSecs += time.Since(start).Seconds()
		b.StopTimer()
		if err != nil || out.Issued != n {
			b.Fatalf("import: %+v %v", out.Counts, err)
		}

		e2 := newEnv(b)
		for from := 0; from < n; from += importer.MaxTrainingBatch {
			items := make([]registry.TrainingInput, 0, importer.MaxTrainingBatch)
			for i := from; i < min(n, from+importer.MaxTrainingBatch); i++ {
				items = append(items, registry.TrainingInput{Name: registry.DemoName(i), IDNumber: idFor(i), TargetGroup: registry.GroupNewLabour,
					OccupationCode: "6-18-01-01", TargetLevel: 4, TrainingType: registry.TrainingEmployment, Hours: 120,
					Start: "2026-01-05", End: "2026-02-20", ClassID: fmt.Sprintf("C%04d", i/50)})
			}
			b.StartTimer()
			start := time.Now()
			_, c, err := importer.TrainingBatch(ctx, e2.reg, e2.user, items, importer.Options{AllOrNothing: true})
			batchSecs += time.Since(start).Seconds()
			b.StopTimer()
			if err != nil || c.Issued != len(items) {
				b.Fatalf("batch: %+v %v", c, err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/fileSecs, "file-rows/s")
	b.ReportMetric(float64(n*b.N)/batchSecs, "json-rows/s")
	b.ReportMetric(0, "ns/op")
}
