package registry

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxNameRunes is the longest holder or trainee name, in characters after
// NFC normalisation. The token carries only the masked form (MaskName, at
// most four characters), so the limit is about people and forms, not the
// QR code: the longest transliterated minority and foreign names seen on
// Chinese documents stay well under it.
const MaxNameRunes = 50

// NameError says why a name is refused, in English and in Chinese. The
// messages never repeat the name.
type NameError struct {
	Message   string
	MessageZH string
}

func (e *NameError) Error() string { return e.Message }

// NameProblem returns the *NameError in err's chain, or nil.
func NameProblem(err error) *NameError {
	var ne *NameError
	if errors.As(err, &ne) {
		return ne
	}
	return nil
}

// nameScripts are the scripts whose letters a name may be written in: Han
// (all planes: rare characters of the extensions are real names), Tibetan,
// Arabic (Uyghur, Kazakh), Mongolian and Yi, the scripts of the names on
// Chinese resident ID cards, and Latin for foreign nationals and for
// names written in pinyin. One name uses one of them.
var nameScripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"Han", unicode.Han},
	{"Latin", unicode.Latin},
	{"Tibetan", unicode.Tibetan},
	{"Arabic", unicode.Arabic},
	{"Mongolian", unicode.Mongolian},
	{"Yi", unicode.Yi},
}

// NameDot is the separator dot of minority and transliterated names
// (阿依古丽·买买提). The look-alike dots clerks type instead become it.
const NameDot = '\u00B7'

// nameDotLookalikes are normalised to NameDot: the katakana middle dot
// (what Japanese input methods give), its half-width form, the bullet,
// the hyphenation point (traditional-character input), and the bullet and
// dot operators.
var nameDotLookalikes = map[rune]bool{'\u30FB': true, '\uFF65': true, '\u2022': true, '\u2027': true, '\u2219': true, '\u22C5': true}

// nameFillers are the Hangul fillers: letters by category, blank on
// screen, used to make a name that looks empty or padded.
var nameFillers = map[rune]bool{'\u115F': true, '\u1160': true, '\u3164': true, '\uFFA0': true}

// maxNameMarks bounds the combining marks on one letter: a Tibetan
// stack needs up to four, more is only ever stacking noise.
const maxNameMarks = 4

// canonicalName is the normal form in which names are stored and
// compared: NFC, spaces of any width as one ASCII space and none around,
// look-alike dots as U+00B7 and the right single quote as an apostrophe.
// It refuses nothing; NormalizeName does.
func canonicalName(s string) string {
	s = norm.NFC.String(s)
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Zs, r):
			space = true
			continue
		case nameDotLookalikes[r]:
			r = NameDot
		case r == '\u2019':
			r = '\''
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

func nameErr(en, zh string, args ...any) error {
	return &NameError{Message: fmt.Sprintf(en, args...), MessageZH: fmt.Sprintf(zh, args...)}
}

// NormalizeName applies the name rule (docs/names-and-ids.md) and returns
// the name in canonical form (canonicalName). A name is 1 to MaxNameRunes
// characters: letters of one script of nameScripts, each with at most a
// few combining marks of its script; single spaces between letters of
// scripts that write words apart (not between Han characters); U+00B7
// between two letters; a hyphen or apostrophe between Latin letters; the
// Tibetan syllable mark after Tibetan letters. Everything else is refused:
// digits, controls, format and bidi characters, fillers, variation
// selectors, private-use and unassigned code points, other scripts. The
// error is a *NameError.
func NormalizeName(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", nameErr("the name is not valid UTF-8 text", "姓名不是有效的 UTF-8 文本")
	}
	name := canonicalName(s)
	n := utf8.RuneCountInString(name)
	switch {
	case n == 0:
		return "", nameErr("the name is required", "姓名不能为空")
	case n > MaxNameRunes:
		return "", nameErr("a name may have at most %d characters", "姓名最多 %d 个字", MaxNameRunes)
	}
	const (
		atStart = iota
		afterLetter
		afterJoiner // a space, dot, hyphen or apostrophe: a letter must follow
	)
	state, marks := atStart, 0
	script := -1
	var last rune
	for _, r := range name {
		prev := last
		last = r
		switch {
		case nameFillers[r]:
			return "", nameErr("the name contains a Hangul filler (U+%04X), which shows as blank", "姓名包含显示为空白的填充字符（U+%04X）", r)
		case r == '\uFFFD':
			return "", nameErr("the name contains U+FFFD, the mark of text decoded in the wrong encoding", "姓名包含乱码替换符 U+FFFD，文件编码可能不对")
		case unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Bidi_Control, unicode.Join_Control):
			return "", nameErr("the name contains an invisible formatting or direction character (U+%04X)", "姓名包含不可见的格式或方向控制字符（U+%04X）", r)
		case unicode.IsControl(r):
			return "", nameErr("the name contains a control character (U+%04X)", "姓名包含控制字符（U+%04X）", r)
		case unicode.Is(unicode.Co, r) || unicode.Is(unicode.Cs, r) || !isAssigned(r):
			return "", nameErr("the name contains a private-use or unassigned code point (U+%04X)", "姓名包含私用区或未分配的字符（U+%04X）", r)
		case unicode.IsNumber(r):
			return "", nameErr("a name has no digits", "姓名不能包含数字")
		case r == '*':
			return "", nameErr("a name may not contain '*', the masking character", "姓名不能包含“*”（脱敏用字符）")
		case unicode.IsLetter(r):
			sc := scriptOf(r)
			if sc < 0 {
				return "", nameErr("the name contains a letter of a script not used in names here (U+%04X); names are written in Han, Tibetan, Arabic (Uyghur), Mongolian, Yi or Latin letters",
					"姓名包含不支持的文字（U+%04X）；姓名应使用汉字、藏文、维吾尔文等阿拉伯字母、蒙古文、彝文或拉丁字母", r)
			}
			if script >= 0 && sc != script {
				return "", nameErr("the name mixes %s and %s letters; write a name in one script", "姓名混用了%s和%s两种文字，请只用一种", nameScripts[script].name, nameScripts[sc].name)
			}
			script, state, marks = sc, afterLetter, 0
		case unicode.In(r, unicode.Mn, unicode.Mc):
			if state != afterLetter || !markFits(r, script) {
				return "", nameErr("the name contains a combining mark (U+%04X) that does not belong to the letter before it", "姓名包含不属于前一个字母的组合符号（U+%04X）", r)
			}
			if marks++; marks > maxNameMarks {
				return "", nameErr("the name stacks more than %d combining marks on one letter", "姓名的一个字母上叠加了超过 %d 个组合符号", maxNameMarks)
			}
		case r == ' ':
			if state != afterLetter || nameScripts[script].table == unicode.Han {
				return "", nameErr("a space may only separate words of a name written in letters other than Han (Chinese names have no spaces)", "汉字姓名中不能有空格")
			}
			state = afterJoiner
		case r == NameDot:
			if state != afterLetter {
				return "", nameErr("the separator dot · must stand between two parts of a name", "间隔号“·”只能用在姓名的两部分之间")
			}
			state = afterJoiner
		case r == '-' || r == '\'':
			if state != afterLetter || nameScripts[script].table != unicode.Latin {
				return "", nameErr("a hyphen or apostrophe may only stand between Latin letters", "连字符或撇号只能用在拉丁字母之间")
			}
			state = afterJoiner
		case r == '\u0F0B' || r == '\u0F0C': // Tibetan tsheg, the syllable mark
			if state != afterLetter || nameScripts[script].table != unicode.Tibetan || prev == '\u0F0B' || prev == '\u0F0C' {
				return "", nameErr("the Tibetan syllable mark must follow a Tibetan letter", "藏文音节点只能用在藏文字母之后")
			}
			marks = 0
		default:
			return "", nameErr("the name contains a character that is not a letter of a name (U+%04X)", "姓名包含非姓名用字符（U+%04X）", r)
		}
	}
	if state == afterJoiner {
		return "", nameErr("a name cannot end with a separator (U+%04X)", "姓名不能以分隔符号（U+%04X）结尾", last)
	}
	return name, nil
}

// SameName reports whether two names are one name in canonical form
// (canonicalName), as the identity check and lookups compare them.
func SameName(a, b string) bool { return normalizeName(a) == normalizeName(b) }

// scriptOf returns the index in nameScripts of r's script, or -1.
func scriptOf(r rune) int {
	for i, s := range nameScripts {
		if unicode.Is(s.table, r) {
			return i
		}
	}
	return -1
}

// markFits reports whether combining mark r may follow a letter of
// script (an index in nameScripts): a mark of that script, or an
// inherited mark (accents, Arabic vowel marks) after Latin or Arabic.
// Variation selectors and the grapheme joiner, which change nothing
// visible in a name and would make two names that look the same differ,
// are never accepted.
func markFits(r rune, script int) bool {
	if unicode.Is(unicode.Variation_Selector, r) && !unicode.Is(unicode.Mongolian, r) || r == '\u034F' {
		return false
	}
	t := nameScripts[script].table
	if unicode.Is(t, r) {
		return true
	}
	return unicode.Is(unicode.Inherited, r) && (t == unicode.Latin || t == unicode.Arabic)
}

// isAssigned reports whether r is assigned a character in the Unicode
// version the standard library knows.
func isAssigned(r rune) bool {
	for _, t := range unicode.Categories {
		if unicode.Is(t, r) {
			return true
		}
	}
	return false
}
