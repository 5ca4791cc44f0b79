package refdata

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

const major1 = "党的机关、国家机关、群众团体和社会组织、企事业单位负责人"

func TestCategoryCounts(t *testing.T) {
	t.Parallel()
	got := map[int]int{}
	for _, c := range Categories() {
		got[c.Level]++
	}
	want := map[int]int{LevelMajor: 8, LevelMiddle: 79, LevelMinor: 450}
	for level, n := range want {
		if got[level] != n {
			t.Errorf("level %d: %d categories, want %d", level, got[level], n)
		}
	}
	if n := len(Categories()); n != 537 {
		t.Errorf("%d categories in all, want 537", n)
	}
}

func TestOccupationCounts(t *testing.T) {
	t.Parallel()
	occs := Occupations()
	if len(occs) != 1671 {
		t.Fatalf("%d occupations, want 1671 (1636 draft + 35 new)", len(occs))
	}
	perMajor := map[string]int{}
	newCount, markers := 0, map[string]int{}
	for _, o := range occs {
		perMajor[o.MajorCode]++
		if o.New {
			newCount++
		}
		for _, m := range o.Markers {
			markers[m]++
		}
	}
	if newCount != 35 {
		t.Errorf("%d new occupations, want 35", newCount)
	}
	// Per-major counts of the source (shared/data/README.md): nothing lost.
	wantMajor := map[string]int{"1": 25, "2": 493, "3": 36, "4": 379, "5": 56, "6": 677, "7": 4, "8": 1}
	for m, n := range wantMajor {
		if perMajor[m] != n {
			t.Errorf("major %s: %d occupations, want %d", m, perMajor[m], n)
		}
	}
	if markers[MarkerGreen] != 137 || markers[MarkerDigital] != 107 || len(markers) != 2 {
		t.Errorf("markers %v, want L=137 S=107 and nothing else", markers)
	}
}

func TestMajorNames(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"1": major1,
		"2": "专业技术人员",
		"3": "办事人员和有关人员",
		"4": "社会生产服务和生活服务人员",
		"5": "农、林、牧、渔业生产及辅助人员",
		"6": "生产制造及有关人员",
		"7": "军队人员",
		"8": "不便分类的其他从业人员",
	}
	for code, name := range want {
		c, ok := LookupCategory(code)
		if !ok || c.Name != name || c.Level != LevelMajor {
			t.Errorf("LookupCategory(%q) = %+v, %v; want %s at level 1", code, c, ok, name)
		}
	}
	n := 0
	for _, o := range Occupations() {
		if o.MajorName != want[o.MajorCode] {
			t.Errorf("%s: major name %q, want %q", o.Code, o.MajorName, want[o.MajorCode])
		}
		if o.MajorCode == "1" {
			n++
		}
	}
	if n != 25 {
		t.Errorf("%d occupations under major 1, want 25", n)
	}
}

func TestCatchAllCategories(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, name string
		level      int
	}{
		{"2-99", "其他专业技术人员", LevelMiddle},
		{"2-99-00", "其他专业技术人员", LevelMinor},
		{"3-99", "其他办事人员和有关人员", LevelMiddle},
		{"4-99-00", "其他社会生产和生活服务人员", LevelMinor},
		{"5-99", "其他农、林、牧、渔业生产及辅助人员", LevelMiddle},
		{"6-99-00", "其他生产制造及有关人员", LevelMinor},
		{"2-02-99", "其他工程技术人员", LevelMinor},
		{"6-18-99", "其他机械制造基础加工人员", LevelMinor},
		{"6-02-06", "酒、饮料及精制茶制造人员", LevelMinor}, // the source gives one row 6-02-01's name
	}
	for _, tt := range tests {
		c, ok := LookupCategory(tt.code)
		if !ok || c.Name != tt.name || c.Level != tt.level {
			t.Errorf("LookupCategory(%q) = %+v, %v; want %q level %d", tt.code, c, ok, tt.name, tt.level)
		}
	}
	for _, absent := range []string{"1-99", "7-99", "8-99", "1-01-99", "7-01-99", "8-00-99", "2-99-99"} {
		if c, ok := LookupCategory(absent); ok {
			t.Errorf("LookupCategory(%q) = %+v, want no such category", absent, c)
		}
	}
	// Every middle category of majors 2 to 6 has its 其他 minor category,
	// and every category's parent exists.
	for _, c := range Categories() {
		if c.Level == LevelMiddle && strings.Contains("23456", c.Code[:1]) && !strings.HasSuffix(c.Code, "-99") {
			o, ok := LookupCategory(c.Code + "-99")
			if !ok || o.Name != "其他"+c.Name {
				t.Errorf("%s %s: catch-all %+v, %v", c.Code, c.Name, o, ok)
			}
		}
		if c.Level > LevelMajor {
			parent := c.Code[:len(c.Code)-3]
			if _, ok := LookupCategory(parent); !ok {
				t.Errorf("%s: parent %s missing", c.Code, parent)
			}
		}
	}
}

func TestOccupationsWellFormed(t *testing.T) {
	t.Parallel()
	codeRE := regexp.MustCompile(`^\d-\d{2}-\d{2}-\d{2}$`)
	latin := regexp.MustCompile(`[A-Za-z]`)
	occs := Occupations()
	seen := map[string]bool{}
	for i, o := range occs {
		if !codeRE.MatchString(o.Code) {
			t.Errorf("bad code %q", o.Code)
		}
		if seen[o.Code] {
			t.Errorf("%s twice", o.Code)
		}
		seen[o.Code] = true
		if i > 0 && occs[i-1].Code >= o.Code {
			t.Errorf("not sorted at %s", o.Code)
		}
		if o.Name == "" || latin.MatchString(o.Name) {
			t.Errorf("%s: bad name %q", o.Code, o.Name)
		}
		if o.Markers == nil {
			t.Errorf("%s: nil markers, want an empty list", o.Code)
		}
		for _, m := range o.Markers {
			if m != MarkerGreen && m != MarkerDigital {
				t.Errorf("%s: marker %q", o.Code, m)
			}
		}
		mi, ok := LookupCategory(o.MinorCode)
		if !ok || mi.Name != o.MinorName || !strings.HasPrefix(o.Code, o.MinorCode+"-") ||
			!strings.HasPrefix(o.MinorCode, o.MiddleCode+"-") || !strings.HasPrefix(o.MiddleCode, o.MajorCode+"-") {
			t.Errorf("%s: categories %s/%s/%s %q", o.Code, o.MajorCode, o.MiddleCode, o.MinorCode, o.MinorName)
		}
	}
}

func TestLookupOccupation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, name, minor string
		markers           []string
		isNew, ok         bool
	}{
		{"6-18-01-01", "车工", "6-18-01", []string{}, false, true},
		{"4-04-05-05", "人工智能训练师", "4-04-05", []string{"S"}, false, true},
		{"2-02-02-03", "摄影测量与遥感工程技术人员", "2-02-02", []string{"L", "S"}, false, true}, // "L/S" was glued to the name
		{"4-08-03-02", "摄影测量员", "4-08-03", []string{"L", "S"}, false, true},
		{"2-02-21-05", "节水工程技术人员", "2-02-21", []string{"L"}, false, true},
		{"4-13-01-10", "网络主播", "4-13-01", []string{"S"}, true, true},
		{"6-02-06-13", "咖啡加工工", "6-02-06", []string{}, true, true},
		{"1-01-00-01", "中国共产党机关负责人", "1-01-00", []string{}, false, true},
		{"6-18-01", "", "", nil, false, false}, // a category, not an occupation
		{"6-18-01-99", "", "", nil, false, false},
		{"6-18-1-01", "", "", nil, false, false},
		{"", "", "", nil, false, false},
	}
	for _, tt := range tests {
		o, ok := LookupOccupation(tt.code)
		if ok != tt.ok {
			t.Errorf("LookupOccupation(%q) ok = %v, want %v", tt.code, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if o.Name != tt.name || o.MinorCode != tt.minor || !slices.Equal(o.Markers, tt.markers) || o.New != tt.isNew {
			t.Errorf("LookupOccupation(%q) = %+v; want name %s, minor %s, markers %v, new %v", tt.code, o, tt.name, tt.minor, tt.markers, tt.isNew)
		}
	}
	o, _ := LookupOccupation("6-18-01-01")
	if o.MajorName != "生产制造及有关人员" || o.MiddleName != "机械制造基础加工人员" || o.MiddleCode != "6-18" {
		t.Errorf("6-18-01-01 categories: %+v", o)
	}
}

func TestIsOccupationPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"6", true},
		{"6-18", true},
		{"4-04-05", true},
		{"6-18-01-01", true},
		{"2-99", true},
		{"2-02-99", true},
		{"9-99", false},
		{"9", false},
		{"6-1", false},
		{"6-18-", false},
		{"6-18-01-", false},
		{"6-18-01-99", false},
		{"", false},
		{" 6-18", false},
	}
	for _, tt := range tests {
		if got := IsOccupationPrefix(tt.in); got != tt.want {
			t.Errorf("IsOccupationPrefix(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSearchOccupations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q         string
		limit     int
		wantFirst []string // codes the results start with, in order
		wantLen   int      // -1: don't care
	}{
		{"车工", 10, []string{"6-18-01-01"}, -1},
		{" 车工 ", 10, []string{"6-18-01-01"}, -1},
		{"人工智能训练师", 5, []string{"4-04-05-05"}, -1},
		{"6-18-01-01", 5, []string{"6-18-01-01"}, 1},
		{"6-18-01", 3, []string{"6-18-01-01", "6-18-01-02", "6-18-01-03"}, 3},
		{"", 2, []string{"1-01-00-01", "1-01-00-02"}, 2},
		{"车工", 0, nil, 0},
		{"车工", -1, nil, 0},
		{"no such thing", 10, nil, 0},
		{"9-", 10, nil, 0},
	}
	for _, tt := range tests {
		got := SearchOccupations(tt.q, tt.limit)
		if tt.wantLen >= 0 && len(got) != tt.wantLen {
			t.Errorf("SearchOccupations(%q, %d): %d results, want %d", tt.q, tt.limit, len(got), tt.wantLen)
		}
		if len(got) < len(tt.wantFirst) {
			t.Errorf("SearchOccupations(%q, %d): %d results, want at least %d", tt.q, tt.limit, len(got), len(tt.wantFirst))
			continue
		}
		for i, code := range tt.wantFirst {
			if got[i].Code != code {
				t.Errorf("SearchOccupations(%q, %d)[%d] = %s %s, want %s", tt.q, tt.limit, i, got[i].Code, got[i].Name, code)
			}
		}
	}

	// Name prefixes rank before other substrings: 车工 is followed by
	// names starting with 车 before ones merely containing it.
	got := SearchOccupations("车", 2000)
	seenContains := false
	for _, o := range got {
		if !strings.HasPrefix(o.Name, "车") {
			seenContains = true
		} else if seenContains {
			t.Errorf("%s %s (prefix match) ranked after a substring match", o.Code, o.Name)
		}
	}
	if len(got) < 10 {
		t.Errorf("SearchOccupations(车) found only %d", len(got))
	}
	if n := len(SearchOccupations("", 100000)); n != 1671 {
		t.Errorf("empty query with a huge limit returned %d, want all 1671", n)
	}
}

// TestCopies proves callers cannot corrupt the shared data through what
// they get back.
func TestCopies(t *testing.T) {
	t.Parallel()
	o, _ := LookupOccupation("4-04-05-05")
	o.Markers[0] = "X"
	all := Occupations()
	all[0].Name = "changed"
	s := SearchOccupations("人工智能训练师", 1)
	s[0].Markers[0] = "Y"
	cats := Categories()
	cats[0].Name = "changed"
	if o2, _ := LookupOccupation("4-04-05-05"); o2.Markers[0] != "S" {
		t.Errorf("markers changed through a returned copy: %v", o2.Markers)
	}
	if Occupations()[0].Name == "changed" || Categories()[0].Name == "changed" {
		t.Error("shared slice changed through a returned copy")
	}
}

func FuzzSearchOccupations(f *testing.F) {
	for _, s := range []string{"车工", "6-18", "", " ", "人工智能", "6-18-01-01", "\xff", "师", "L"} {
		f.Add(s, 10)
	}
	f.Add("工", 0)
	f.Add("工", -5)
	f.Add("", 5000)
	f.Fuzz(func(t *testing.T, q string, limit int) {
		got := SearchOccupations(q, limit)
		if len(got) > max(limit, 0) {
			t.Fatalf("SearchOccupations(%q, %d) returned %d results", q, limit, len(got))
		}
		tq := strings.TrimSpace(q)
		seen := map[string]bool{}
		for _, o := range got {
			if seen[o.Code] {
				t.Fatalf("%s returned twice", o.Code)
			}
			seen[o.Code] = true
			if tq != "" && !strings.HasPrefix(o.Code, tq) && !strings.Contains(o.Name, tq) {
				t.Fatalf("SearchOccupations(%q) returned %s %s, which does not match", q, o.Code, o.Name)
			}
		}
		if utf8.ValidString(tq) && tq != "" && limit > 0 {
			if o, ok := LookupOccupation(tq); ok && (len(got) == 0 || got[0].Code != o.Code) {
				t.Fatalf("exact code %q not ranked first", tq)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := parse(occupationsJSON, regionsJSON); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSearchOccupations(b *testing.B) {
	get()
	for b.Loop() {
		SearchOccupations("工程技术", 50)
	}
}
