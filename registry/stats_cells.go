package registry

// The counters behind the statistics, and the pure rules that say what
// each holder contributes to them. Everything here is a function of the
// data it is given: the live path (stats_sync.go), `stats check` and the
// bulk build of the demo all count through holderStateOf and
// contributions, so they cannot disagree about a rule.

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

// StatsCell is one counter: the number N of workers or certificates of
// one kind, level and year in one province, occupation major category and
// channel. Every event is counted in sixteen rollups: each of province,
// category and channel either itself or CellAll, and the year either
// itself or CellAllYears, so that any query of the API reads exactly one
// rollup of at most 3 kinds x 5 levels counters (per province, or per
// year for the trend) and never sums over a dimension.
type StatsCell struct {
	Kind     string // CellWorkers, CellIssued or CellRevoked
	Province string // 2-digit code or CellAll
	Category string // "1".."8" or CellAll
	Channel  string // a Channel or CellAll
	Level    Level
	Year     int // workers: the year of their tier certificate; CellAllYears in the all-years rollup
	N        int64
}

// ID is the cell's key as stored: kind|province|category|channel|level|year.
func (c StatsCell) ID() string {
	return c.Kind + "|" + c.Province + "|" + c.Category + "|" + c.Channel + "|" + strconv.Itoa(int(c.Level)) + "|" + strconv.Itoa(c.Year)
}

// ParseCellID is the inverse of StatsCell.ID, with N zero.
func ParseCellID(id string) (StatsCell, error) {
	p := strings.Split(id, "|")
	if len(p) != 6 {
		return StatsCell{}, fmt.Errorf("stats: bad cell id %q", id)
	}
	l, err1 := strconv.Atoi(p[4])
	y, err2 := strconv.Atoi(p[5])
	if err1 != nil || err2 != nil {
		return StatsCell{}, fmt.Errorf("stats: bad cell id %q", id)
	}
	return StatsCell{Kind: p[0], Province: p[1], Category: p[2], Channel: p[3], Level: Level(l), Year: y}, nil
}

// StatsCellFilter selects the cells of one rollup. Province, Category and
// Channel are matched exactly (CellAll selects the rollup over that
// dimension). With PerProvince, Province is ignored and the cells of every
// single province (not the CellAll rollup) are returned. With Years, the
// cells of single years are returned, otherwise the all-years rollup.
type StatsCellFilter struct {
	Province    string
	Category    string
	Channel     string
	PerProvince bool
	Years       bool
}

// StatsDelta is a change of one counter.
type StatsDelta struct {
	Cell string `json:"cell"` // StatsCell.ID
	N    int64  `json:"n"`
}

// HolderCert is what the counters need to know of one certificate of a
// holder.
type HolderCert struct {
	Number    string `json:"number"`
	Level     Level  `json:"level"`
	Province  string `json:"province"`
	Category  string `json:"category"`
	Channel   string `json:"channel"`
	IssuedOn  string `json:"issued_on"`
	CreatedMS int64  `json:"created_ms"` // creation, Unix milliseconds: the tie-break after IssuedOn
	Revoked   bool   `json:"revoked"`
}

// StatsHolder is the counted state of one holder: the certificates the
// counters include, as they were counted. Version grows by one with every
// change; 0 is a holder never counted.
type StatsHolder struct {
	Hash    string       `json:"hash"`
	Version int64        `json:"version"`
	Certs   []HolderCert `json:"certs"` // sorted by number
}

// HoldersInOrder returns the states of hashes in that order from found
// (by hash), with a never-counted state (Version 0) for a hash it lacks:
// what every store's StatsHolders answers.
func HoldersInOrder(hashes []string, found map[string]*StatsHolder) []*StatsHolder {
	out := make([]*StatsHolder, len(hashes))
	for i, h := range hashes {
		if st, ok := found[h]; ok {
			out[i] = st
		} else {
			out[i] = &StatsHolder{Hash: h}
		}
	}
	return out
}

// holderCertOf extracts what the counters need from a certificate.
func holderCertOf(c *Certificate) HolderCert {
	hc := HolderCert{
		Number:    c.Number,
		Level:     c.Level,
		Channel:   string(c.Channel),
		IssuedOn:  c.IssuedOn,
		CreatedMS: c.CreatedAt.UnixMilli(),
		Revoked:   c.Status == StatusRevoked,
	}
	if len(c.IssuerID) >= 7 {
		hc.Province = c.IssuerID[5:7]
	}
	if c.OccupationCode != "" {
		hc.Category = c.OccupationCode[:1]
	}
	return hc
}

// holderCertsOf returns the counted form of one holder's certificates,
// sorted by number.
func holderCertsOf(certs []*Certificate) []HolderCert {
	out := make([]HolderCert, 0, len(certs))
	for _, c := range certs {
		out = append(out, holderCertOf(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out
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

// tierCert returns the certificate that places the holder: the valid one
// of the highest level (lowest number), on a tie the most recent (latest
// issue date, then latest creation, then highest number). ok is false when
// no certificate is valid: the holder is not a skilled worker.
func tierCert(certs []HolderCert) (HolderCert, bool) {
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
func rollups(kind, province, category, channel string, level Level, year int, fn func(id string)) {
	for _, p := range [2]string{province, CellAll} {
		for _, c := range [2]string{category, CellAll} {
			for _, ch := range [2]string{channel, CellAll} {
				for _, y := range [2]int{year, CellAllYears} {
					fn(StatsCell{Kind: kind, Province: p, Category: c, Channel: ch, Level: level, Year: y}.ID())
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
	if t, ok := tierCert(certs); ok {
		rollups(CellWorkers, t.Province, t.Category, t.Channel, t.Level, yearOf(t.IssuedOn), func(id string) { m[id] += sign })
	}
}

// deltasBetween returns the counter changes that move a holder from the
// counted certificates old to new, sorted by cell, zeros left out.
func deltasBetween(old, new []HolderCert) []StatsDelta {
	m := map[string]int64{}
	contributions(old, -1, m)
	contributions(new, +1, m)
	return deltasOf(m)
}

// deltasOf turns a map of changes into a sorted list without zeros.
func deltasOf(m map[string]int64) []StatsDelta {
	out := make([]StatsDelta, 0, len(m))
	for id, n := range m {
		if n != 0 {
			out = append(out, StatsDelta{Cell: id, N: n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Cell < out[j].Cell })
	return out
}

// cellsOf turns a map of counts into cells, zeros left out.
func cellsOf(m map[string]int64) ([]StatsCell, error) {
	out := make([]StatsCell, 0, len(m))
	for id, n := range m {
		if n == 0 {
			continue
		}
		c, err := ParseCellID(id)
		if err != nil {
			return nil, err
		}
		c.N = n
		out = append(out, c)
	}
	return out, nil
}

// matches reports whether cell c belongs to the rollup f selects.
func (f StatsCellFilter) matches(c StatsCell) bool {
	if f.PerProvince {
		if c.Province == CellAll {
			return false
		}
	} else if c.Province != f.Province {
		return false
	}
	if (c.Year != CellAllYears) != f.Years {
		return false
	}
	return c.Category == f.Category && c.Channel == f.Channel
}
