package refdata

// Region is an administrative division with a six-digit GB/T 2260-style
// code: a province (110000), a prefecture (110100) or a county (110105).
// Children are the next level down; counties have none, and neither do
// the four prefecture cities that have no county level.
type Region struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Children []Region `json:"children,omitempty"`
}

func (r Region) clone() Region {
	if r.Children != nil {
		kids := make([]Region, len(r.Children))
		for i, k := range r.Children {
			kids[i] = k.clone()
		}
		r.Children = kids
	}
	return r
}

// Regions returns the whole tree: 31 provinces sorted by code, each with
// its prefectures and their counties.
func Regions() []Region {
	d := get()
	out := make([]Region, len(d.regions))
	for i, p := range d.regions {
		out[i] = p.clone()
	}
	return out
}

// Provinces returns the 31 provinces sorted by code, without children, for
// pickers and for the province of issuers and statistics.
func Provinces() []Region {
	return append([]Region(nil), get().provinces...)
}

// ProvinceName returns the name of the province whose two-digit code
// (the first two digits of a region code, "11" for 北京市) is code2.
func ProvinceName(code2 string) (string, bool) {
	if len(code2) != 2 {
		return "", false
	}
	r, ok := get().regionByID[code2+"0000"]
	if !ok {
		return "", false
	}
	return r.Name, true
}

// LookupRegion returns the province, prefecture or county with the
// six-digit code, with its subtree. Absence does not make a code invalid
// in an ID number, which may carry a code retired long ago.
func LookupRegion(code6 string) (Region, bool) {
	if len(code6) != 6 {
		return Region{}, false
	}
	r, ok := get().regionByID[code6]
	if !ok {
		return Region{}, false
	}
	return r.clone(), true
}
