package stats

// The counters behind the statistics, and the pure rules that say what
// each holder contributes to them. Everything here is a function of the
// data it is given: the live path (sync.go), the check and the bulk
// counting of the demo all count through TierCert and contributions, so
// they cannot disagree about a rule.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Counter kinds.
const (
	CellWorkers = "w" // skilled workers, by tier (their best valid certificate)
	CellIssued  = "i" // certificates issued (人次), revoked ones included
	CellRevoked = "r" // certificates revoked
)

// CellAll is the value of a dimension in the rollup counter that covers
// all of its values.
const CellAll = "*"

// CellAllYears is the Year of the rollup counter that covers every year.
const CellAllYears = 0

// Levels are the certificate levels the figures report, highest first
// (1 is 一级/高级技师, 5 is 五级/初级工).
var Levels = []int{1, 2, 3, 4, 5}

// Cell is one counter: the number N of workers or certificates of one
// kind, level and year in one province, occupation major category and
// channel. Every event is counted in sixteen rollups: each of province,
// category and channel either itself or CellAll, and the year either
// itself or CellAllYears, so that any query reads exactly one rollup of
// at most 3 kinds x 5 levels counters (per province, or per year for the
// trend) and never sums over a dimension.
type Cell struct {
	Kind     string // CellWorkers, CellIssued or CellRevoked
	Province string // 2-digit code or CellAll
	Category string // "1".."8" or CellAll
	Channel  string // an evaluation channel or CellAll
	Level    int
	Year     int // workers: the year of their tier certificate; CellAllYears in the all-years rollup
	N        int64
}

// ID is the cell's key as stored: kind|province|category|channel|level|year.
func (c Cell) ID() string {
	return c.Kind + "|" + c.Province + "|" + c.Category + "|" + c.Channel + "|" + strconv.Itoa(c.Level) + "|" + strconv.Itoa(c.Year)
}

// ParseCellID is the inverse of Cell.ID, with N zero.
func ParseCellID(id string) (Cell, error) {
	p := strings.Split(id, "|")
	if len(p) != 6 {
		return Cell{}, fmt.Errorf("stats: bad cell id %q", id)
	}
	l, err1 := strconv.Atoi(p[4])
	y, err2 := strconv.Atoi(p[5])
	if err1 != nil || err2 != nil {
		return Cell{}, fmt.Errorf("stats: bad cell id %q", id)
	}
	return Cell{Kind: p[0], Province: p[1], Category: p[2], Channel: p[3], Level: l, Year: y}, nil
}

// CellFilter selects the cells of one rollup. Province, Category and
// Channel are matched exactly (CellAll selects the rollup over that
// dimension). With PerProvince, Province is ignored and the cells of every
// single province (not the CellAll rollup) are returned. With Years, the
// cells of single years are returned, otherwise the all-years rollup.
type CellFilter struct {
	Province    string
	Category    string
	Channel     string
	PerProvince bool
	Years       bool
}

// Delta is a change of one counter.
type Delta struct {
	Cell string // Cell.ID
	N    int64
}

// HolderCert is what the counters need to know of one certificate of a
// holder: the counted facts, nothing that names the person.
type HolderCert struct {
	Number    string
	Level     int
	Province  string // of the issuer, 2 digits
	Category  string // occupation major category, "1".."8"
	Channel   string
	IssuedOn  string // YYYY-MM-DD
	CreatedMS int64  // creation, Unix milliseconds: the tie-break after IssuedOn
	Revoked   bool
}

// ScannedCert is one certificate of the ordered scan of every
// certificate: its holder's ID-number hash and its counted facts.
type ScannedCert struct {
	Hash string
	HolderCert
}

// Holder is the counted state of one holder: the certificates the
// counters include, as they were counted. Version grows by one with every
// change; 0 is a holder never counted.
type Holder struct {
	Hash    string
	Version int64
	Certs   []HolderCert // sorted by number
}

// HoldersInOrder returns the states of hashes in that order from found
// (by hash), with a never-counted state (Version 0) for a hash it lacks:
// what every store's StatsHolders answers.
func HoldersInOrder(hashes []string, found map[string]*Holder) []*Holder {
	out := make([]*Holder, len(hashes))
	for i, h := range hashes {
		if st, ok := found[h]; ok {
			out[i] = st
		} else {
			out[i] = &Holder{Hash: h}
		}
	}
	return out
}

// SortCerts sorts counted certificates by number, the order of a
// Holder's Certs.
func SortCerts(certs []HolderCert) {
	sort.Slice(certs, func(i, j int) bool { return certs[i].Number < certs[j].Number })
}

// sameCerts reports whether two counted certificate lists are equal.
func sameCerts(a, b []HolderCert) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TierCert returns the certificate that places the holder: the valid one
// of the highest level (lowest number), on a tie the most recent (latest
// issue date, then latest creation, then highest number). ok is false when
// no certificate is valid: the holder is not a skilled worker.
func TierCert(certs []HolderCert) (HolderCert, bool) {
	var best HolderCert
	found := false
	for _, c := range certs {
		if c.Revoked {
			continue
		}
		if !found || better(c, best) {
			best, found = c, true
		}
	}
	return best, found
}

func better(a, b HolderCert) bool {
	if a.Level != b.Level {
		return a.Level < b.Level
	}
	if a.IssuedOn != b.IssuedOn {
		return a.IssuedOn > b.IssuedOn
	}
	if a.CreatedMS != b.CreatedMS {
		return a.CreatedMS > b.CreatedMS
	}
	return a.Number > b.Number
}

// rollups calls fn with the ID of each of the sixteen rollups of one
// event.
func rollups(kind, province, category, channel string, level, year int, fn func(id string)) {
	for _, p := range [2]string{province, CellAll} {
		for _, c := range [2]string{category, CellAll} {
			for _, ch := range [2]string{channel, CellAll} {
				for _, y := range [2]int{year, CellAllYears} {
					fn(Cell{Kind: kind, Province: p, Category: c, Channel: ch, Level: level, Year: y}.ID())
				}
			}
		}
	}
}

// contributions adds to m (cell ID → count) what a holder with the
// counted certificates certs contributes, times sign (+1 or -1).
func contributions(certs []HolderCert, sign int64, m map[string]int64) {
	for _, c := range certs {
		y := yearOf(c.IssuedOn)
		rollups(CellIssued, c.Province, c.Category, c.Channel, c.Level, y, func(id string) { m[id] += sign })
		if c.Revoked {
			rollups(CellRevoked, c.Province, c.Category, c.Channel, c.Level, y, func(id string) { m[id] += sign })
		}
	}
	if t, ok := TierCert(certs); ok {
		rollups(CellWorkers, t.Province, t.Category, t.Channel, t.Level, yearOf(t.IssuedOn), func(id string) { m[id] += sign })
	}
}

// DeltasBetween returns the counter changes that move a holder from the
// counted certificates old to new, sorted by cell, zeros left out.
func DeltasBetween(old, new []HolderCert) []Delta {
	m := map[string]int64{}
	contributions(old, -1, m)
	contributions(new, +1, m)
	return deltasOf(m)
}

// deltasOf turns a map of changes into a sorted list without zeros.
func deltasOf(m map[string]int64) []Delta {
	out := make([]Delta, 0, len(m))
	for id, n := range m {
		if n != 0 {
			out = append(out, Delta{Cell: id, N: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cell < out[j].Cell })
	return out
}

// yearOf returns the year of a YYYY-MM-DD date, 0 if it has none.
func yearOf(day string) int {
	if len(day) < 4 {
		return 0
	}
	y, err := strconv.Atoi(day[:4])
	if err != nil {
		return 0
	}
	return y
}
