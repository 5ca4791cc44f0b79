package registry

import (
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry/refdata"
)

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// idCheckChar computes the GB 11643-1999 check character of the first 17
// digits of s, which the caller has verified are digits.
func idCheckChar(s string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(s[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// MinBirthYear is the earliest birth year an ID number may carry: nobody
// born before it is alive to be trained or certified.
const MinBirthYear = 1900

// NormalizeIDNumber validates a resident ID number (GB 11643-1999) and
// returns its canonical 18-character form with an upper-case check
// character. A legacy 15-digit number is upgraded by inserting "19" before
// the birth date and computing the check character. Beyond the check
// character, the number must be one that could exist: its birth date a
// real date from MinBirthYear on (a date after the issue date is the
// caller's check, BornBy, since this function has no clock), its address
// code under a province that issues ID numbers (idProvince; so 000000 is
// refused). The county part of the address code is not checked against
// today's region list: codes are merged, renamed and retired, and a
// number keeps the code of the county where it was first issued.
// The error is an EINVALID *Error on field "id_number" whose message never
// repeats the number.
func NormalizeIDNumber(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch len(s) {
	case 15:
		if !allDigits(s) {
			return "", FieldError("id_number", "a 15-digit ID number must contain only digits")
		}
		up := s[:6] + "19" + s[6:]
		s = up + string(idCheckChar(up))
	case 18:
		if !allDigits(s[:17]) {
			return "", FieldError("id_number", "the first 17 characters of an ID number must be digits")
		}
		last := s[17]
		if last == 'x' {
			last = 'X'
		}
		if last != idCheckChar(s) {
			if (last < '0' || last > '9') && last != 'X' {
				return "", FieldError("id_number", "the last character of an ID number must be a digit or X")
			}
			return "", FieldError("id_number", "the check character does not match (GB 11643-1999)")
		}
		s = s[:17] + string(last)
	default:
		return "", FieldError("id_number", "an ID number has 18 characters (or 15 digits for the old format), got %d", len(s))
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil {
		return "", FieldError("id_number", "the birth date in the ID number is not a valid date")
	}
	if birth.Year() < MinBirthYear {
		return "", FieldError("id_number", "the birth date in the ID number is before %d", MinBirthYear)
	}
	if !IDAddressPlausible(s) {
		return "", FieldError("id_number", "the address code of the ID number (its first 6 digits) does not begin with a province code (11-65, 71, 81-83)")
	}
	return s, nil
}

// IDAddressPlausible reports whether the ID number s (at least 3
// characters) begins with an address code that could have issued it: a
// province code (idProvince), or 9 and a province code.
func IDAddressPlausible(s string) bool {
	return len(s) >= 3 && (idProvince(s[:2]) || s[0] == '9' && idProvince(s[1:3]))
}

// idProvince reports whether code2 is a province-level code under which
// ID numbers are issued: the 31 provinces of the region list, Taiwan
// (71), Hong Kong (81), Macao (82), and 83, which the residence permits
// of Taiwan residents carry. A foreign national's permanent residence
// ID (the 2023 format) starts with 9 and the province code after it.
func idProvince(code2 string) bool {
	switch code2 {
	case "71", "81", "82", "83":
		return true
	}
	_, ok := refdata.ProvinceName(code2)
	return ok
}

// IDBirthDate returns the birth date of a canonical ID number (one that
// NormalizeIDNumber returned).
func IDBirthDate(id string) time.Time {
	d, _ := time.ParseInLocation("20060102", id[6:14], ChinaTime)
	return d
}

// BornBy checks that the holder of canonical ID number id was born on or
// before day (an issue date, or today): EINVALID on "id_number"
// otherwise.
func BornBy(id string, day time.Time) error {
	if IDBirthDate(id).After(day) {
		return FieldError("id_number", "the birth date in the ID number is after %s", day.Format("2006-01-02"))
	}
	return nil
}

// MaskIDNumber shows the first 6 and last 4 characters of an ID number and
// hides the rest: 110105********002X.
func MaskIDNumber(id string) string {
	if len(id) <= 10 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}

// MaskName hides part of a holder's name for public display: 张* (2
// characters), 张*三 (3), 欧阳** (4 or more, first two characters kept). The
// result is at most four characters long so that it fits a QR code.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch {
	case len(r) == 0:
		return ""
	case len(r) == 1:
		return "*"
	case len(r) == 2:
		return string(r[:1]) + "*"
	case len(r) == 3:
		return string(r[:1]) + "*" + string(r[2:])
	default:
		return string(r[:2]) + "**"
	}
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
