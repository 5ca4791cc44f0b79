package registry

import (
	"strings"
	"testing"
	"time"
)

func TestNormalizeIDNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{"11010519491231002X", "11010519491231002X", ""},
		{"11010519491231002x", "11010519491231002X", ""},
		{"440524198001010013", "440524198001010013", ""},
		{"34052419800101001X", "34052419800101001X", ""},
		{" 440524198001010013 ", "440524198001010013", ""},
		// A valid check character, but born in 1880.
		{"440524188001010014", "", "before 1900"},
		// A 15-digit legacy number gains "19" and a check character.
		{"110105491231002", "11010519491231002X", ""},
		{"110105491231002X", "", "18 characters"},
		{"110105194912310021", "", "check character"},
		{"440524188001010015", "", "check character"},
		{"34052419800101001Y", "", "digit or X"},
		{"1101051949123100AX", "", "first 17"},
		{"11010519491331002X", "", ""}, // month 13: the check digit fails first or the date does
		{"", "", "18 characters"},
		{"11010A491231002", "", "only digits"},
	}
	for _, tt := range tests {
		got, err := NormalizeIDNumber(tt.in)
		if tt.want != "" {
			if err != nil || got != tt.want {
				t.Errorf("NormalizeIDNumber(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			continue
		}
		if err == nil {
			t.Errorf("NormalizeIDNumber(%q) = %q, want an error", tt.in, got)
			continue
		}
		if ErrorCode(err) != EINVALID || ErrorField(err) != "id_number" {
			t.Errorf("NormalizeIDNumber(%q) error %v: want EINVALID on id_number", tt.in, err)
		}
		if tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("NormalizeIDNumber(%q) error %q, want it to mention %q", tt.in, err, tt.wantErr)
		}
		if len(tt.in) > 10 && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
			t.Errorf("error for %q repeats the ID number", tt.in)
		}
	}
}

func TestNormalizeIDNumberInvalidDate(t *testing.T) {
	t.Parallel()
	// Build an ID with a valid check character but an impossible date.
	base := "11010519490230002" // 30 February
	id := base + string(idCheckChar(base))
	if _, err := NormalizeIDNumber(id); err == nil || !strings.Contains(err.Error(), "birth date") {
		t.Fatalf("NormalizeIDNumber(%s) = %v, want a birth-date error", id, err)
	}
}

// withCheck completes 17 digits with their check character.
func withCheck(s17 string) string { return s17 + string(idCheckChar(s17)) }

// TestNormalizeIDNumberCouldExist: a right check character is not enough;
// the address code must be under a province that issues ID numbers and
// the birth date a real date from 1900 on (and, through BornBy, not after
// the issue date), while a county code missing from today's list is fine.
func TestNormalizeIDNumberCouldExist(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, s17, wantErr string
	}{
		{"region 000000", "00000019800101001", "address code"},
		{"province 00", "00010519800101001", "address code"},
		{"province 99", "99010519800101001", "address code"},
		{"province 10", "10010519800101001", "address code"},
		{"province 72", "72000019800101001", "address code"},
		{"born 1899", "11010518991231001", "before 1900"},
		{"30 February", "11010519800230001", "not a valid date"},
		{"unknown county under Beijing", "11019919800101001", ""},
		{"retired county code", "11010319800101001", ""}, // 崇文区, merged into 东城区 in 2010
		{"Hong Kong resident permit", "81000019800101001", ""},
		{"Taiwan resident permit", "83000019800101001", ""},
		{"foreign national, Beijing", "91115619800101001", ""},
		{"foreign national, no province", "99915619800101001", "address code"},
		{"born 2030", "11010520300101001", ""}, // a date: only BornBy refuses it
	} {
		id := withCheck(tt.s17)
		got, err := NormalizeIDNumber(id)
		switch {
		case tt.wantErr == "" && (err != nil || got != id):
			t.Errorf("%s: NormalizeIDNumber = %q, %v; want it accepted", tt.name, got, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%s: NormalizeIDNumber = %q, %v; want an error about %q", tt.name, got, err, tt.wantErr)
		case err != nil && (ErrorField(err) != "id_number" || strings.Contains(err.Error(), id)):
			t.Errorf("%s: error %v: want field id_number and no ID number in it", tt.name, err)
		}
	}
	born2030 := withCheck("11010520300101001")
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, ChinaTime)
	if err := BornBy(born2030, day); err == nil || ErrorField(err) != "id_number" || strings.Contains(err.Error(), born2030) {
		t.Errorf("BornBy(born 2030, 2026-12-06) = %v, want an id_number error without the number", err)
	}
	if err := BornBy(withCheck("11010520261206001"), day); err != nil {
		t.Errorf("BornBy(born on the issue date) = %v, want nil", err)
	}
}

func TestMaskIDNumber(t *testing.T) {
	t.Parallel()
	if got := MaskIDNumber("11010519491231002X"); got != "110105********002X" {
		t.Fatalf("MaskIDNumber = %q", got)
	}
	if got := MaskIDNumber("short"); got != "*****" {
		t.Fatalf("MaskIDNumber(short) = %q", got)
	}
}

func TestMaskName(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"张三":         "张*",
		"张小三":        "张*三",
		"欧阳小明":       "欧阳**",
		"阿依古丽·买买提":   "阿依**",
		"王":          "*",
		"":           "",
		" 李四 ":       "李*",
		"John Smith": "Jo**",
	}
	for in, want := range tests {
		if got := MaskName(in); got != want {
			t.Errorf("MaskName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzNormalizeIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "440524198001010013", "440524188001010014", "00000019800101001X", "110105491231002", "", "x", "11010519491231002x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizeIDNumber(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("error code %q", ErrorCode(err))
			}
			return
		}
		if len(got) != 18 || idCheckChar(got) != got[17] {
			t.Fatalf("accepted %q as %q, which fails its own check", s, got)
		}
		again, err := NormalizeIDNumber(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
