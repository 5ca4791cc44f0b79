package refdata

import (
	"testing"
)

func TestRegionCounts(t *testing.T) {
	t.Parallel()
	provinces, prefectures, counties := 0, 0, 0
	seen := map[string]bool{}
	for _, p := range Regions() {
		provinces++
		for _, pf := range p.Children {
			prefectures++
			if pf.Code[:2] != p.Code[:2] || pf.Code[4:] != "00" {
				t.Errorf("prefecture %s under %s", pf.Code, p.Code)
			}
			for _, c := range pf.Children {
				counties++
				if len(c.Code) != 6 || c.Code[:4] != pf.Code[:4] || len(c.Children) != 0 {
					t.Errorf("county %s %s under %s", c.Code, c.Name, pf.Code)
				}
				if seen[c.Code] {
					t.Errorf("%s twice", c.Code)
				}
				seen[c.Code] = true
			}
		}
	}
	if provinces != 31 || prefectures != 342 || counties != 2974 {
		t.Errorf("got %d / %d / %d, want 31 provinces / 342 prefectures / 2974 counties", provinces, prefectures, counties)
	}
}

func TestProvinces(t *testing.T) {
	t.Parallel()
	ps := Provinces()
	if len(ps) != 31 {
		t.Fatalf("%d provinces, want 31", len(ps))
	}
	for i, p := range ps {
		if p.Children != nil {
			t.Errorf("%s has children", p.Code)
		}
		if i > 0 && ps[i-1].Code >= p.Code {
			t.Errorf("not sorted at %s", p.Code)
		}
	}
	if ps[0].Code != "110000" || ps[0].Name != "北京市" || ps[30].Code != "650000" {
		t.Errorf("first %+v, last %+v", ps[0], ps[30])
	}
}

func TestProvinceName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"11", "北京市", true},
		{"44", "广东省", true},
		{"65", "新疆维吾尔自治区", true},
		{"54", "西藏自治区", true},
		{"71", "", false}, // 台湾 is not in the NBS list
		{"99", "", false},
		{"1", "", false},
		{"110000", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := ProvinceName(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ProvinceName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestLookupRegion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code, name string
		children   int // -1: don't care
		ok         bool
	}{
		{"110105", "朝阳区", 0, true},
		{"110000", "北京市", 1, true},
		{"110100", "市辖区", 16, true},
		{"440000", "广东省", 21, true},
		{"441900", "东莞市", 0, true}, // its 36 townships are gone
		{"442000", "中山市", 0, true},
		{"460400", "儋州市", 0, true},
		{"620200", "嘉峪关市", 0, true},
		{"441900003", "", 0, false}, // a township code of the source
		{"11", "", 0, false},
		{"1101", "", 0, false},
		{"999999", "", 0, false},
	}
	for _, tt := range tests {
		r, ok := LookupRegion(tt.code)
		if ok != tt.ok || r.Name != tt.name || (tt.children >= 0 && len(r.Children) != tt.children) {
			t.Errorf("LookupRegion(%q) = %s %s with %d children, %v; want %q with %d, %v", tt.code, r.Code, r.Name, len(r.Children), ok, tt.name, tt.children, tt.ok)
		}
	}
}

func TestNoTownshipCodes(t *testing.T) {
	t.Parallel()
	var walk func([]Region)
	n := 0
	walk = func(list []Region) {
		for _, r := range list {
			n++
			if len(r.Code) != 6 {
				t.Errorf("region %s %s: code is not 6 digits", r.Code, r.Name)
			}
			walk(r.Children)
		}
	}
	walk(Regions())
	if n != 31+342+2974 {
		t.Errorf("%d regions, want %d", n, 31+342+2974)
	}
}

func TestRegionCopies(t *testing.T) {
	t.Parallel()
	rs := Regions()
	rs[0].Children[0].Children[0].Name = "changed"
	r, _ := LookupRegion("110000")
	r.Children[0].Name = "changed"
	Provinces()[0].Name = "changed"
	if got, _ := LookupRegion("110101"); got.Name != "东城区" {
		t.Errorf("110101 is now %q", got.Name)
	}
	if got, _ := LookupRegion("110100"); got.Name != "市辖区" {
		t.Errorf("110100 is now %q", got.Name)
	}
	if got, _ := ProvinceName("11"); got != "北京市" || Provinces()[0].Name != "北京市" {
		t.Errorf("11 is now %q", got)
	}
}
