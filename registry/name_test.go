package registry_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/skillreg/skillreg/registry"
)

func TestNormalizeNameAccepts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"张三", "张三"},
		{" 欧阳娜娜\u3000", "欧阳娜娜"},
		{"阿依古丽·买买提", "阿依古丽·买买提"},
		{"阿依古丽・买买提", "阿依古丽·买买提"}, // katakana middle dot
		{"阿依古丽•买买提", "阿依古丽·买买提"}, // bullet
		{"阿依古丽‧买买提", "阿依古丽·买买提"}, // hyphenation point
		{"𠀀𪚥", "𠀀𪚥"},             // extension B
		{"王𰻞", "王𰻞"},             // extension G (biáng)
		{"ئابدۇرېھىم ئۆتكۈر", "ئابدۇرېھىم ئۆتكۈر"},
		{"བསྟན་འཛིན་", "བསྟན་འཛིན་"},
		{"ᠪᠠᠲᠦ", "ᠪᠠᠲᠦ"},
		{"ꆈꌠ", "ꆈꌠ"},
		{"Jean-Pierre O'Brien", "Jean-Pierre O'Brien"},
		{"Zoë  Müller", "Zoë Müller"},
		{"Zoe\u0308", "Zoë"}, // decomposed: NFC
		{"O\u2019Neil", "O'Neil"},
	} {
		got, err := registry.NormalizeName(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeNameRefuses(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"",
		"   ",
		"ѧԱ1",                                   // Cyrillic, Armenian and a digit: GB18030 学员1 read as UTF-8
		"ѧԱ",                                    // the same without the digit
		"学员1",                                   // digit
		"张三2",                                   // digit
		"张三٣",                                   // Arabic-Indic digit
		"\u200b\u200c\u200d",                    // zero-width characters only
		"张\u200b三",                              // zero-width space inside
		"\u3164",                                // Hangul filler
		"\u115f\u1160",                          // Hangul choseong and jungseong fillers
		"张\uffa0三",                              // half-width Hangul filler
		"\u202e三张abc",                           // bidi override
		"\ufeff张三",                              // byte-order mark
		"张\u2066三",                              // bidi isolate
		"张三\ue000",                              // private use
		"张三\U000F0000",                          // supplementary private use
		"张\x00三",                                // NUL
		"张\t三",                                  // tab
		"张\n三",                                  // line break
		"张*",                                    // the mask character
		"张 三",                                   // space between Han characters
		"·张三",                                   // leading dot
		"张三·",                                   // trailing dot
		"张··三",                                  // two dots
		"张三abc",                                 // Han and Latin mixed
		"Иван",                                  // Cyrillic
		"Ἀλέξανδρος",                            // Greek
		"김철수",                                   // Hangul
		"やまだ",                                   // Hiragana
		"张\u0301三",                              // an accent on a Han character
		"e\u0301\u0301\u0301\u0301\u0301\u0301", // stacked marks
		"张\ufe00",                               // variation selector
		"张\U000E0100",                           // ideographic variation selector
		"-Jean",                                 // leading hyphen
		"Jean-",                                 // trailing hyphen
		"张-三",                                   // hyphen between Han characters
		"J. Smith",                              // full stop
		"张三\ufffd",                              // replacement character
		"\U0001F600",                            // emoji
		strings.Repeat("张", registry.MaxNameRunes+1),
		"\xff\xfe", // not UTF-8
	} {
		got, err := registry.NormalizeName(in)
		if err == nil {
			t.Errorf("NormalizeName(%q) = %q, want a refusal", in, got)
			continue
		}
		ne := registry.NameProblem(err)
		if ne == nil || ne.Message == "" || ne.MessageZH == "" {
			t.Errorf("NormalizeName(%q): error %v is not a *NameError with both messages", in, err)
		}
	}
}

// TestNameMaskFitsToken checks that the longest allowed names, in the
// widest characters, mask to what a token may carry.
func TestNameMaskFitsToken(t *testing.T) {
	t.Parallel()
	for _, name := range []string{strings.Repeat("𰻞", registry.MaxNameRunes), "𠀀𠀁", "Jean-Pierre O'Brien", strings.Repeat("ཀ", registry.MaxNameRunes)} {
		n, err := registry.NormalizeName(name)
		if err != nil {
			t.Fatalf("NormalizeName(%q): %v", name, err)
		}
		if m := registry.MaskName(n); utf8.RuneCountInString(m) > 4 || len(m) > 4*utf8.UTFMax {
			t.Errorf("MaskName(%q) = %q: more than 4 characters", n, m)
		}
	}
}

// FuzzNormalizeName checks the rule's promises on any input: an accepted
// name is NFC, its own canonical form, 1 to MaxNameRunes characters, and
// holds no digit, control, format, private-use or '*' character.
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"张三", "阿依古丽·买买提", "ѧԱ1", "\u200b", "\u3164", "\u202e三张abc", "\ufeff张三", "Jean-Pierre", "བསྟན་འཛིན་", "Zoe\u0308", "a b", "𠀀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := registry.NormalizeName(s)
		if err != nil {
			if registry.NameProblem(err) == nil {
				t.Fatalf("error %v is not a *NameError", err)
			}
			return
		}
		if !norm.NFC.IsNormalString(got) {
			t.Fatalf("%q is not NFC", got)
		}
		if again, err := registry.NormalizeName(got); err != nil || again != got {
			t.Fatalf("NormalizeName(%q) = %q, %v: not idempotent", got, again, err)
		}
		if n := utf8.RuneCountInString(got); n < 1 || n > registry.MaxNameRunes {
			t.Fatalf("%q has %d characters", got, n)
		}
		letters := 0
		for _, r := range got {
			if unicode.IsLetter(r) {
				letters++
			}
			if unicode.IsNumber(r) || unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Co, unicode.Cs) || r == '*' || r == '\u3164' {
				t.Fatalf("%q holds %U", got, r)
			}
		}
		if letters == 0 {
			t.Fatalf("%q has no letter", got)
		}
	})
}
