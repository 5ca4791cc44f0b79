package registry

import (
	"strings"
	"testing"
)

func TestNormalizeIDNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{"11010519491231002X", "11010519491231002X", ""},
		{"11010519491231002x", "11010519491231002X", ""},
		{"440524188001010014", "440524188001010014", ""},
		{"34052419800101001X", "34052419800101001X", ""},
		{" 440524188001010014 ", "440524188001010014", ""},
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
	for _, s := range []string{"11010519491231002X", "440524188001010014", "110105491231002", "", "x", "11010519491231002x"} {
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
