package refgen

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sharedData = "../../../../shared/data"

func readShared(t *testing.T) (occ [][]byte, reg []byte) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedData, OccupationsInput))
	if err != nil {
		t.Skipf("raw data not available: %v", err)
	}
	reg, err = os.ReadFile(filepath.Join(sharedData, RegionsInput))
	if err != nil {
		t.Skipf("raw data not available: %v", err)
	}
	for _, l := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(l)) > 0 {
			occ = append(occ, l)
		}
	}
	return occ, reg
}

// editRow changes the row with the given occupation code.
func editRow(t *testing.T, rows [][]byte, code string, edit func(map[string]any)) [][]byte {
	t.Helper()
	out := make([][]byte, 0, len(rows))
	found := false
	for _, l := range rows {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if m["occupation_code"] == code {
			found = true
			edit(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			l = b
		}
		out = append(out, l)
	}
	if !found {
		t.Fatalf("no row %s", code)
	}
	return out
}

func writeInputs(t *testing.T, occ [][]byte, reg []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, OccupationsInput), append(bytes.Join(occ, []byte("\n")), '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, RegionsInput), reg, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestGenerateReport(t *testing.T) {
	occ, reg := readShared(t)
	files, rep, err := Generate(writeInputs(t, occ, reg))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Majors != 8 || rep.Middles != 79 || rep.Minors != 450 || rep.Occupations != 1671 || rep.New != 35 {
		t.Errorf("occupation report %+v", rep)
	}
	if rep.Provinces != 31 || rep.Prefectures != 342 || rep.Counties != 2974 || rep.DroppedTownship != 82 {
		t.Errorf("region report %+v", rep)
	}
	if rep.MarkerCounts["L"] != 137 || rep.MarkerCounts["S"] != 107 {
		t.Errorf("markers %v", rep.MarkerCounts)
	}
	for name, b := range files {
		if !json.Valid(b) {
			t.Errorf("%s is not valid JSON", name)
		}
	}
	if !bytes.Contains(files[OccupationsOutput], []byte(`{"code":"1","name":"党的机关、国家机关、群众团体和社会组织、企事业单位负责人"}`)) {
		t.Error("major 1 not renamed")
	}
	// Deterministic: a second run gives the same bytes.
	again, _, err := Generate(writeInputs(t, occ, reg))
	if err != nil {
		t.Fatal(err)
	}
	for name := range files {
		if !bytes.Equal(files[name], again[name]) {
			t.Errorf("%s differs between runs", name)
		}
	}
}

// TestGenerateRejects proves the generator fails loudly on defects it does
// not know how to repair instead of shipping them.
func TestGenerateRejects(t *testing.T) {
	occ, reg := readShared(t)
	tests := []struct {
		name    string
		occ     func() [][]byte
		reg     func() []byte
		wantErr string
	}{
		{"duplicate code", func() [][]byte { return append(append([][]byte{}, occ...), occ[100]) }, nil, "appears twice"},
		{"malformed code", func() [][]byte {
			return editRow(t, occ, "6-18-01-01", func(m map[string]any) { m["occupation_code"] = "6-18-01-1" })
		}, nil, "does not match X-XX-XX-XX"},
		{"code outside its categories", func() [][]byte {
			return editRow(t, occ, "6-18-01-01", func(m map[string]any) { m["occupation_code"] = "6-18-02-99" })
		}, nil, "are not its prefixes"},
		{"unknown marker", func() [][]byte {
			return editRow(t, occ, "6-18-01-01", func(m map[string]any) { m["markers"] = []string{"X"} })
		}, nil, "unknown marker"},
		{"unknown source type", func() [][]byte {
			return editRow(t, occ, "6-18-01-01", func(m map[string]any) { m["source_type"] = "blog" })
		}, nil, "unknown source_type"},
		{"extra middle category", func() [][]byte {
			return editRow(t, occ, "6-18-01-01", func(m map[string]any) {
				m["occupation_code"], m["middle_category_code"], m["minor_category_code"] = "6-40-01-01", "6-40", "6-40-01"
			})
		}, nil, "categories: got 8 / 80 / 452"},
		{"catch-all already in the input", func() [][]byte {
			return editRow(t, occ, "6-18-01-01", func(m map[string]any) {
				m["occupation_code"], m["minor_category_code"] = "6-18-99-01", "6-18-99"
			})
		}, nil, "already present"},
		{"middle name not ending in 人员", func() [][]byte {
			var out [][]byte
			for _, l := range occ {
				out = append(out, bytes.ReplaceAll(l, []byte(`"middle_category_name": "采矿人员"`), []byte(`"middle_category_name": "采矿"`)))
			}
			return out
		}, nil, "does not end in 人员"},
		{"lost row", func() [][]byte { return occ[1:] }, nil, "occupations: got 1670"},
		{"duplicate county", nil, func() []byte {
			return bytes.Replace(reg, []byte(`{"code":"110102","name":"西城区"}`), []byte(`{"code":"110101","name":"西城区"}`), 1)
		}, "110101 appears twice"},
		{"odd-length code", nil, func() []byte {
			return bytes.Replace(reg, []byte(`{"code":"110102","name":"西城区"}`), []byte(`{"code":"1101020","name":"西城区"}`), 1)
		}, "neither 6 nor 9 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, r := occ, reg
			if tt.occ != nil {
				o = tt.occ()
			}
			if tt.reg != nil {
				r = tt.reg()
				if bytes.Equal(r, reg) {
					t.Fatal("the edit did not apply")
				}
			}
			_, _, err := Generate(writeInputs(t, o, r))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Generate: %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
