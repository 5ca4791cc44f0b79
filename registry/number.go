package registry

import (
	"fmt"
	"regexp"
)

var (
	numberRe       = regexp.MustCompile(`^[YS]\d{4}\d{2}\d{6}\d{2}[1-5]\d{6}$`)
	legacyNumberRe = regexp.MustCompile(`^\d{16}$`)
)

// MaxSerial is the largest serial a certificate number can carry.
const MaxSerial = 999999

// NumberPrefix returns the part of a certificate number that a serial is
// allocated within: the issuer ID (kind, organisation code, province, site),
// the two-digit year and the level. Serials are gap-free per prefix.
func NumberPrefix(issuerID string, year int, level Level) string {
	return fmt.Sprintf("%s%02d%d", issuerID, year%100, int(level))
}

// FormatNumber returns the 22-character certificate number for a prefix
// made by NumberPrefix and a serial from 1 to MaxSerial.
func FormatNumber(prefix string, serial int) string {
	return fmt.Sprintf("%s%06d", prefix, serial)
}

// NumberInfo is what a certificate number says about itself.
type NumberInfo struct {
	Legacy   bool   // a 16-digit 职业资格 number
	IssuerID string // kind + organisation code + province + site (current format only)
	Province string // two digits (current format only)
	Year     int    // two-digit year (current format only)
	Level    Level
	Serial   int // current format only
}

// ParseNumber checks a certificate number: the 22-character 职业技能等级证书
// format ^[YS]\d{4}\d{2}\d{6}\d{2}[1-5]\d{6}$ or a legacy 16-digit 职业资格
// number with the level at position 11. The error is an EINVALID *Error on
// field "number".
func ParseNumber(s string) (NumberInfo, error) {
	switch {
	case numberRe.MatchString(s):
		var n NumberInfo
		n.IssuerID = s[:13]
		n.Province = s[5:7]
		n.Year = int(s[13]-'0')*10 + int(s[14]-'0')
		n.Level = Level(s[15] - '0')
		for _, c := range s[16:] {
			n.Serial = n.Serial*10 + int(c-'0')
		}
		return n, nil
	case legacyNumberRe.MatchString(s):
		lv := Level(s[10] - '0')
		if !lv.Valid() {
			return NumberInfo{}, FieldError("number", "a 16-digit certificate number carries its level (1-5) at position 11")
		}
		return NumberInfo{Legacy: true, Level: lv}, nil
	default:
		return NumberInfo{}, FieldError("number", "a certificate number has 22 characters (S or Y, then 21 digits) or 16 digits for old 职业资格 certificates")
	}
}
