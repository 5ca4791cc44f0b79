package refdata

import "strings"

// Category levels of the classification; the code's length gives the level
// ("6", "6-18", "6-18-01").
const (
	LevelMajor  = 1 // 大类
	LevelMiddle = 2 // 中类
	LevelMinor  = 3 // 小类
)

// Markers an occupation may carry in the 2022 classification.
const (
	MarkerGreen   = "L" // 绿色职业
	MarkerDigital = "S" // 数字职业
)

// Occupation is one occupation (职业, 细类) of the 2022 classification, with
// the names of its three categories so that callers can label it without a
// second lookup.
type Occupation struct {
	Code       string   `json:"code"` // X-XX-XX-XX, e.g. 6-18-01-01
	Name       string   `json:"name"`
	MajorCode  string   `json:"major_code"`
	MajorName  string   `json:"major_name"`
	MiddleCode string   `json:"middle_code"`
	MiddleName string   `json:"middle_name"`
	MinorCode  string   `json:"minor_code"`
	MinorName  string   `json:"minor_name"`
	Markers    []string `json:"markers"` // MarkerGreen and/or MarkerDigital; empty, never null
	// New is true for the 35 occupations MOHRSS announced after the 2022
	// draft; they are valid codes, but older systems may not know them.
	New bool `json:"new"`
}

// Category is a major, middle or minor category of the 2022
// classification. Category codes are the prefixes of occupation codes, and
// issuer scopes are written in them.
type Category struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level int    `json:"level"` // LevelMajor, LevelMiddle or LevelMinor
}

func (o Occupation) clone() Occupation {
	o.Markers = append(make([]string, 0, len(o.Markers)), o.Markers...)
	return o
}

// LookupOccupation returns the occupation with the exact code (X-XX-XX-XX).
// Category codes are not occupations: use LookupCategory for those.
func LookupOccupation(code string) (Occupation, bool) {
	d := get()
	i, ok := d.occByCode[code]
	if !ok {
		return Occupation{}, false
	}
	return d.occupations[i].clone(), true
}

// Occupations returns all 1,671 occupations sorted by code.
func Occupations() []Occupation {
	d := get()
	out := make([]Occupation, len(d.occupations))
	for i, o := range d.occupations {
		out[i] = o.clone()
	}
	return out
}

// Categories returns all 537 categories (8 major, 79 middle, 450 minor)
// sorted by code, which puts every category right before its children.
func Categories() []Category {
	return append([]Category(nil), get().categories...)
}

// LookupCategory returns the category with the exact code ("6", "6-18",
// "6-18-01").
func LookupCategory(code string) (Category, bool) {
	d := get()
	i, ok := d.catByCode[code]
	if !ok {
		return Category{}, false
	}
	return d.categories[i], true
}

// IsOccupationPrefix reports whether prefix is a category code or a full
// occupation code, i.e. a valid entry of an issuer's occupation scope such
// as "6-18" or "4-04-05". A bare string prefix like "6-1" is not.
func IsOccupationPrefix(prefix string) bool {
	d := get()
	if _, ok := d.catByCode[prefix]; ok {
		return true
	}
	_, ok := d.occByCode[prefix]
	return ok
}

// SearchOccupations finds occupations for a picker or an autocomplete: q
// matches a prefix of the code ("6-18") or any part of the name ("车").
// The best matches come first: exact code or name, then names starting
// with q, then code prefixes, then other names containing q; ties go by
// code. An empty q lists occupations by code. At most limit results are
// returned, none if limit < 1.
func SearchOccupations(q string, limit int) []Occupation {
	if limit < 1 {
		return nil
	}
	d := get()
	q = strings.TrimSpace(q)
	if q == "" {
		n := min(limit, len(d.occupations))
		out := make([]Occupation, n)
		for i := range out {
			out[i] = d.occupations[i].clone()
		}
		return out
	}
	const (
		exact = iota
		namePrefix
		codePrefix
		nameContains
		ranks
	)
	var hits [ranks][]int
	for i, o := range d.occupations {
		switch {
		case o.Name == q || o.Code == q:
			hits[exact] = append(hits[exact], i)
		case strings.HasPrefix(o.Name, q):
			hits[namePrefix] = append(hits[namePrefix], i)
		case strings.HasPrefix(o.Code, q):
			hits[codePrefix] = append(hits[codePrefix], i)
		case strings.Contains(o.Name, q):
			hits[nameContains] = append(hits[nameContains], i)
		}
	}
	var out []Occupation
	for _, rank := range hits {
		for _, i := range rank {
			if len(out) == limit {
				return out
			}
			out = append(out, d.occupations[i].clone())
		}
	}
	return out
}

// isOccupationCode reports whether s has the X-XX-XX-XX shape.
func isOccupationCode(s string) bool {
	if len(s) != 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 1, 4, 7:
			if s[i] != '-' {
				return false
			}
		default:
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
	}
	return true
}
