// Package refgen turns the raw reference data in shared/data into the
// compact files that package refdata embeds. It lives apart from the
// gendata command so that refdata's tests can regenerate the files in
// memory and prove the committed copies are up to date.
//
// The raw files are third-party compilations with known defects (see
// shared/data/README.md); every repair happens here, is counted in the
// Report, and ends in hard assertions on the official category totals,
// so that a changed input fails loudly instead of shipping quietly.
package refgen

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Input and output file names. Inputs are the verbatim copies described in
// shared/data/README.md; outputs are what refdata embeds.
const (
	OccupationsInput  = "occupations-2022-cn.jsonl"
	RegionsInput      = "admin-divisions-pca-code.json"
	OccupationsOutput = "occupations.json"
	RegionsOutput     = "regions.json"
)

// Official totals of the 2022 大典 for the category levels. Occupations are
// not asserted against the printed 1,639: the input is the draft (1,636)
// plus 35 later announcements, and the two cannot be reconciled offline.
const (
	WantMajors      = 8
	WantMiddles     = 79
	WantMinors      = 450
	WantOccupations = 1671 // the input's row count, kept whole
	WantNew         = 35

	WantProvinces   = 31
	WantPrefectures = 342
	WantCounties    = 2974
	WantTownships   = 82
)

// majorNames are the 8 major category names as DOMAIN.md gives them; the
// input is trusted for nothing at this level.
var majorNames = map[string]string{
	"1": "党的机关、国家机关、群众团体和社会组织、企事业单位负责人",
	"2": "专业技术人员",
	"3": "办事人员和有关人员",
	"4": "社会生产服务和生活服务人员",
	"5": "农、林、牧、渔业生产及辅助人员",
	"6": "生产制造及有关人员",
	"7": "军队人员",
	"8": "不便分类的其他从业人员",
}

// catchAllMiddles are the X-99 middle categories missing from the input,
// one for each major that has catch-alls in the 2022 edition (2 to 6).
var catchAllMiddles = map[string]string{
	"2": "其他专业技术人员",
	"3": "其他办事人员和有关人员",
	"4": "其他社会生产和生活服务人员",
	"5": "其他农、林、牧、渔业生产及辅助人员",
	"6": "其他生产制造及有关人员",
}

// Source types of the input rows.
const (
	sourceDraft = "pdf_derived_official_catalog"
	sourceNew   = "official_new_occupation_increment"
)

var (
	occupationCodeRE = regexp.MustCompile(`^\d-\d{2}-\d{2}-\d{2}$`)
	// markerSuffixRE finds marker letters that the PDF extraction glued
	// onto a name ("节水工程技术人员L", "…人员L/S").
	markerSuffixRE = regexp.MustCompile(`^(.*[^A-Za-z/])([LS/]+)$`)
	asciiLetterRE  = regexp.MustCompile(`[A-Za-z]`)
)

// Report says what Generate found and repaired, for the command to print.
type Report struct {
	Majors, Middles, Minors   int
	Occupations, New          int
	MarkerCounts              map[string]int
	Provinces, Prefectures    int
	Counties, DroppedTownship int
	Fixes                     []string
}

// String renders the report for a terminal.
func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "categories: %d major, %d middle, %d minor\n", r.Majors, r.Middles, r.Minors)
	fmt.Fprintf(&b, "occupations: %d (%d new after the draft), markers L=%d S=%d\n", r.Occupations, r.New, r.MarkerCounts["L"], r.MarkerCounts["S"])
	fmt.Fprintf(&b, "regions: %d provinces, %d prefectures, %d counties (%d township rows dropped)\n", r.Provinces, r.Prefectures, r.Counties, r.DroppedTownship)
	for _, f := range r.Fixes {
		fmt.Fprintf(&b, "fix: %s\n", f)
	}
	return b.String()
}

// inputRow is the part of an input line that we ship or check.
type inputRow struct {
	Code       string   `json:"occupation_code"`
	Name       string   `json:"occupation_name"`
	MajorCode  string   `json:"major_category_code"`
	MajorName  string   `json:"major_category_name"`
	MiddleCode string   `json:"middle_category_code"`
	MiddleName string   `json:"middle_category_name"`
	MinorCode  string   `json:"minor_category_code"`
	MinorName  string   `json:"minor_category_name"`
	Markers    []string `json:"markers"`
	SourceType string   `json:"source_type"`
}

// Category is a category row of the output.
type Category struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// Occupation is an occupation row of the output. Category codes are not
// stored: they are the code's prefixes, which Generate checks.
type Occupation struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Markers []string `json:"markers,omitempty"`
	New     bool     `json:"new,omitempty"`
}

// Region is a node of the output region tree.
type Region struct {
	Code     string   `json:"code"`
	Name     string   `json:"name"`
	Children []Region `json:"children,omitempty"`
}

// Source identifies an input file, so a regenerated output shows when the
// input changed.
type Source struct {
	File   string `json:"file"`
	SHA256 string `json:"sha256"`
}

// Generate reads the inputs in sharedDir and returns the output files by
// name, with a report. It fails on any defect it does not know how to
// repair, and when the repaired data misses the official totals.
func Generate(sharedDir string) (map[string][]byte, Report, error) {
	rep := Report{MarkerCounts: map[string]int{}}
	occRaw, err := os.ReadFile(filepath.Join(sharedDir, OccupationsInput))
	if err != nil {
		return nil, rep, err
	}
	regRaw, err := os.ReadFile(filepath.Join(sharedDir, RegionsInput))
	if err != nil {
		return nil, rep, err
	}
	cats, occs, err := buildOccupations(occRaw, &rep)
	if err != nil {
		return nil, rep, fmt.Errorf("%s: %w", OccupationsInput, err)
	}
	regions, err := buildRegions(regRaw, &rep)
	if err != nil {
		return nil, rep, fmt.Errorf("%s: %w", RegionsInput, err)
	}
	return map[string][]byte{
		OccupationsOutput: encodeOccupations(Source{OccupationsInput, sha(occRaw)}, cats, occs),
		RegionsOutput:     encodeRegions(Source{RegionsInput, sha(regRaw)}, regions),
	}, rep, nil
}

// WriteFiles writes Generate's output into dir.
func WriteFiles(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), files[n], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// nameVotes collects the names the rows give one category. Rows disagree
// on 6-02-06 (a later addition carries 6-02-01's name), so the draft's
// rows outvote the later ones and a tie is an error.
type nameVotes map[string]map[string]int

func (v nameVotes) add(code, name string, weight int) {
	if v[code] == nil {
		v[code] = map[string]int{}
	}
	v[code][name] += weight
}

func (v nameVotes) resolve(rep *Report) (map[string]string, error) {
	out := make(map[string]string, len(v))
	for code, names := range v {
		best, bestN, tie := "", -1, false
		for n, c := range names {
			switch {
			case c > bestN:
				best, bestN, tie = n, c, false
			case c == bestN:
				tie = true
			}
		}
		if tie {
			return nil, fmt.Errorf("category %s: rows disagree on its name with no majority: %v", code, names)
		}
		if len(names) > 1 {
			var others []string
			for n := range names {
				if n != best {
					others = append(others, n)
				}
			}
			sort.Strings(others)
			rep.Fixes = append(rep.Fixes, fmt.Sprintf("category %s: name %q kept over %q given by a minority of rows", code, best, strings.Join(others, `", "`)))
		}
		out[code] = best
	}
	return out, nil
}

func buildOccupations(raw []byte, rep *Report) ([]Category, []Occupation, error) {
	var rows []inputRow
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var r inputRow
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", line, err)
		}
		rows = append(rows, r)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, err
	}

	var problems []string
	seen := map[string]bool{}
	votes := nameVotes{}
	majorFixed := map[string]int{}
	var occs []Occupation
	for _, r := range rows {
		if !occupationCodeRE.MatchString(r.Code) {
			problems = append(problems, fmt.Sprintf("occupation code %q does not match X-XX-XX-XX", r.Code))
			continue
		}
		if seen[r.Code] {
			problems = append(problems, fmt.Sprintf("occupation code %s appears twice", r.Code))
			continue
		}
		seen[r.Code] = true
		if r.MajorCode != r.Code[:1] || r.MiddleCode != r.Code[:4] || r.MinorCode != r.Code[:7] {
			problems = append(problems, fmt.Sprintf("occupation %s: category codes %s / %s / %s are not its prefixes", r.Code, r.MajorCode, r.MiddleCode, r.MinorCode))
			continue
		}
		want, ok := majorNames[r.MajorCode]
		if !ok {
			problems = append(problems, fmt.Sprintf("occupation %s: unknown major category %s", r.Code, r.MajorCode))
			continue
		}
		if r.MajorName != want {
			majorFixed[r.MajorCode+" "+r.MajorName]++
		}
		weight := 1
		switch r.SourceType {
		case sourceDraft:
			weight = 1000
		case sourceNew:
		default:
			problems = append(problems, fmt.Sprintf("occupation %s: unknown source_type %q", r.Code, r.SourceType))
			continue
		}
		votes.add(r.MiddleCode, strings.TrimSpace(r.MiddleName), weight)
		votes.add(r.MinorCode, strings.TrimSpace(r.MinorName), weight)

		o := Occupation{Code: r.Code, Name: strings.TrimSpace(r.Name), New: r.SourceType == sourceNew}
		markers := map[string]bool{}
		for _, m := range r.Markers {
			// "LS/" and "S/" are several markers run together.
			for _, ch := range strings.TrimRight(m, "/") {
				switch ch {
				case 'L', 'S':
					markers[string(ch)] = true
				default:
					problems = append(problems, fmt.Sprintf("occupation %s: unknown marker %q", r.Code, m))
				}
			}
			if m != "L" && m != "S" {
				rep.Fixes = append(rep.Fixes, fmt.Sprintf("occupation %s: marker %q split into letters", r.Code, m))
			}
		}
		if mm := markerSuffixRE.FindStringSubmatch(o.Name); mm != nil {
			for _, ch := range strings.ReplaceAll(mm[2], "/", "") {
				markers[string(ch)] = true
			}
			rep.Fixes = append(rep.Fixes, fmt.Sprintf("occupation %s: marker letters %q moved out of the name %q", r.Code, mm[2], o.Name))
			o.Name = mm[1]
		}
		if asciiLetterRE.MatchString(o.Name) {
			problems = append(problems, fmt.Sprintf("occupation %s: Latin letters left in the name %q", r.Code, o.Name))
		}
		if o.Name == "" {
			problems = append(problems, fmt.Sprintf("occupation %s: empty name", r.Code))
		}
		for _, m := range []string{"L", "S"} {
			if markers[m] {
				o.Markers = append(o.Markers, m)
				rep.MarkerCounts[m]++
			}
		}
		occs = append(occs, o)
	}
	for _, k := range sortedKeys(majorFixed) {
		code := k[:1]
		rep.Fixes = append(rep.Fixes, fmt.Sprintf("major %s: %d rows named %q, renamed %q", code, majorFixed[k], k[2:], majorNames[code]))
	}
	names, err := votes.resolve(rep)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, nil, fmt.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	sort.Strings(rep.Fixes)

	// Categories: the 8 majors, the middles and minors the rows use, and
	// the catch-alls the input lacks.
	for code, name := range majorNames {
		names[code] = name
	}
	var middles []string
	for code := range names {
		if len(code) == 4 {
			middles = append(middles, code)
		}
	}
	sort.Strings(middles)
	added := 0
	for _, mid := range middles {
		major := mid[:1]
		if _, ok := catchAllMiddles[major]; !ok {
			continue
		}
		name := names[mid]
		if !strings.HasSuffix(name, "人员") {
			return nil, nil, fmt.Errorf("middle category %s %q does not end in 人员; cannot derive its 其他 minor category", mid, name)
		}
		if err := addCategory(names, mid+"-99", "其他"+name); err != nil {
			return nil, nil, err
		}
		added++
	}
	for _, major := range sortedKeys(catchAllMiddles) {
		name := catchAllMiddles[major]
		if err := addCategory(names, major+"-99", name); err != nil {
			return nil, nil, err
		}
		if err := addCategory(names, major+"-99-00", name); err != nil {
			return nil, nil, err
		}
		added += 2
	}
	rep.Fixes = append(rep.Fixes, fmt.Sprintf("added %d 其他 catch-all categories (%d middle X-99, %d minor)", added, len(catchAllMiddles), added-len(catchAllMiddles)))

	cats := make([]Category, 0, len(names))
	for _, code := range sortedKeys(names) {
		cats = append(cats, Category{Code: code, Name: names[code]})
		switch len(code) {
		case 1:
			rep.Majors++
		case 4:
			rep.Middles++
		case 7:
			rep.Minors++
		}
	}
	sort.Slice(occs, func(i, j int) bool { return occs[i].Code < occs[j].Code })
	rep.Occupations = len(occs)
	for _, o := range occs {
		if o.New {
			rep.New++
		}
	}
	if rep.Majors != WantMajors || rep.Middles != WantMiddles || rep.Minors != WantMinors {
		return nil, nil, fmt.Errorf("categories: got %d / %d / %d, the 2022 edition has %d / %d / %d",
			rep.Majors, rep.Middles, rep.Minors, WantMajors, WantMiddles, WantMinors)
	}
	if rep.Occupations != WantOccupations || rep.New != WantNew {
		return nil, nil, fmt.Errorf("occupations: got %d (%d new), want %d (%d new)", rep.Occupations, rep.New, WantOccupations, WantNew)
	}
	return cats, occs, nil
}

func addCategory(names map[string]string, code, name string) error {
	if old, ok := names[code]; ok {
		return fmt.Errorf("catch-all %s %q already present as %q", code, name, old)
	}
	names[code] = name
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func buildRegions(raw []byte, rep *Report) ([]Region, error) {
	var in []Region
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var problems []string
	check := func(code, name string) {
		if seen[code] {
			problems = append(problems, fmt.Sprintf("region code %s appears twice", code))
		}
		seen[code] = true
		if strings.TrimSpace(name) == "" || name != strings.TrimSpace(name) {
			problems = append(problems, fmt.Sprintf("region %s: bad name %q", code, name))
		}
	}
	out := make([]Region, 0, len(in))
	for _, p := range in {
		if len(p.Code) != 2 || !digits(p.Code) {
			problems = append(problems, fmt.Sprintf("province code %q is not 2 digits", p.Code))
			continue
		}
		prov := Region{Code: p.Code + "0000", Name: p.Name}
		check(prov.Code, prov.Name)
		for _, c := range p.Children {
			if len(c.Code) != 4 || !digits(c.Code) || c.Code[:2] != p.Code {
				problems = append(problems, fmt.Sprintf("prefecture code %q under %s is not 4 digits starting with it", c.Code, p.Code))
				continue
			}
			pref := Region{Code: c.Code + "00", Name: c.Name}
			check(pref.Code, pref.Name)
			dropped := 0
			for _, k := range c.Children {
				switch {
				case len(k.Code) == 9 && digits(k.Code) && k.Code[:4] == c.Code:
					// A township of a prefecture city without counties.
					dropped++
				case len(k.Code) == 6 && digits(k.Code) && k.Code[:4] == c.Code && !strings.HasSuffix(k.Code, "00"):
					if len(k.Children) > 0 {
						problems = append(problems, fmt.Sprintf("county %s has children", k.Code))
					}
					check(k.Code, k.Name)
					pref.Children = append(pref.Children, Region{Code: k.Code, Name: k.Name})
				default:
					problems = append(problems, fmt.Sprintf("county code %q under %s is neither 6 nor 9 digits starting with it", k.Code, c.Code))
				}
			}
			if dropped > 0 {
				if len(pref.Children) > 0 {
					problems = append(problems, fmt.Sprintf("prefecture %s mixes counties and townships", c.Code))
				}
				rep.DroppedTownship += dropped
				rep.Fixes = append(rep.Fixes, fmt.Sprintf("region %s %s: dropped %d township-level children", pref.Code, pref.Name, dropped))
			}
			sort.Slice(pref.Children, func(i, j int) bool { return pref.Children[i].Code < pref.Children[j].Code })
			rep.Counties += len(pref.Children)
			prov.Children = append(prov.Children, pref)
		}
		sort.Slice(prov.Children, func(i, j int) bool { return prov.Children[i].Code < prov.Children[j].Code })
		rep.Prefectures += len(prov.Children)
		out = append(out, prov)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	rep.Provinces = len(out)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%d problems:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	if rep.Provinces != WantProvinces || rep.Prefectures != WantPrefectures || rep.Counties != WantCounties || rep.DroppedTownship != WantTownships {
		return nil, fmt.Errorf("regions: got %d provinces / %d prefectures / %d counties / %d townships dropped, want %d / %d / %d / %d",
			rep.Provinces, rep.Prefectures, rep.Counties, rep.DroppedTownship, WantProvinces, WantPrefectures, WantCounties, WantTownships)
	}
	return out, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// The encoders write one record per line, so that a change in the data
// shows as a readable diff in review.

func encodeOccupations(src Source, cats []Category, occs []Occupation) []byte {
	var b bytes.Buffer
	b.WriteString("{\"source\":")
	b.Write(mustJSON(src))
	b.WriteString(",\n\"categories\":[")
	for i, c := range cats {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		b.Write(mustJSON(c))
	}
	b.WriteString("\n],\n\"occupations\":[")
	for i, o := range occs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
		b.Write(mustJSON(o))
	}
	b.WriteString("\n]}\n")
	return b.Bytes()
}

func encodeRegions(src Source, regions []Region) []byte {
	var b bytes.Buffer
	b.WriteString("{\"source\":")
	b.Write(mustJSON(src))
	b.WriteString(",\n\"regions\":")
	writeRegionList(&b, regions)
	b.WriteString("}\n")
	return b.Bytes()
}

func writeRegionList(b *bytes.Buffer, list []Region) {
	b.WriteByte('[')
	for i, r := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n{\"code\":")
		b.Write(mustJSON(r.Code))
		b.WriteString(",\"name\":")
		b.Write(mustJSON(r.Name))
		if len(r.Children) > 0 {
			b.WriteString(",\"children\":")
			writeRegionList(b, r.Children)
		}
		b.WriteByte('}')
	}
	b.WriteString("\n]")
}

func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only strings, bools and slices of them: cannot fail
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
