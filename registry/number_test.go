package registry

import "testing"

func TestNumberFormatAndParse(t *testing.T) {
	t.Parallel()
	prefix := NumberPrefix("S000111000001", 2026, Level2)
	n := FormatNumber(prefix, 42)
	if n != "S000111000001262000042" {
		t.Fatalf("FormatNumber = %q", n)
	}
	if len(n) != 22 {
		t.Fatalf("len = %d", len(n))
	}
	info, err := ParseNumber(n)
	if err != nil {
		t.Fatal(err)
	}
	want := NumberInfo{IssuerID: "S000111000001", Province: "11", Year: 26, Level: Level2, Serial: 42}
	if info != want {
		t.Fatalf("ParseNumber = %+v, want %+v", info, want)
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		ok    bool
		level Level
	}{
		{"S000111000001262000042", true, 2},
		{"Y123444000001265999999", true, 5},
		{"Y123444000001260999999", false, 0}, // level 0
		{"Y123444000001266999999", false, 0}, // level 6
		{"X000111000001262000042", false, 0},
		{"S00011100000126200004", false, 0}, // 21 characters
		{"s000111000001262000042", false, 0},
		{"1234567890312345", true, 3}, // legacy: level at position 11
		{"1234567890012345", false, 0},
		{"", false, 0},
	}
	for _, tt := range tests {
		info, err := ParseNumber(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseNumber(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && info.Level != tt.level {
			t.Errorf("ParseNumber(%q).Level = %d, want %d", tt.in, info.Level, tt.level)
		}
		if !tt.ok && ErrorField(err) != "number" {
			t.Errorf("ParseNumber(%q) error field = %q", tt.in, ErrorField(err))
		}
	}
}

func FuzzParseNumber(f *testing.F) {
	for _, s := range []string{"S000111000001262000042", "1234567890312345", "", "Y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := ParseNumber(s)
		if err != nil {
			return
		}
		if !info.Level.Valid() {
			t.Fatalf("accepted %q with level %d", s, info.Level)
		}
		if !info.Legacy && FormatNumber(NumberPrefix(info.IssuerID, info.Year, info.Level), info.Serial) != s {
			t.Fatalf("%q does not round-trip", s)
		}
	})
}

func TestIssuerInScope(t *testing.T) {
	t.Parallel()
	is := &Issuer{Scope: Scope{Occupations: []string{"6-18", "4-04-05"}, MaxLevel: Level2}}
	tests := []struct {
		occ   string
		level Level
		want  bool
	}{
		{"6-18-01-01", 2, true},
		{"6-18-01-01", 5, true},
		{"6-18-01-01", 1, false}, // above the issuer's highest level
		{"4-04-05-05", 3, true},
		{"4-04-06-01", 3, false},
		{"6-180-01-01", 3, false}, // a prefix must end at a code boundary
		{"6-19-01-01", 3, false},
	}
	for _, tt := range tests {
		if got := is.InScope(tt.occ, tt.level); got != tt.want {
			t.Errorf("InScope(%s, %d) = %v, want %v", tt.occ, tt.level, got, tt.want)
		}
	}
}
