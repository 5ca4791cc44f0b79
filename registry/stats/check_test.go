package stats

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"testing"
)

// scanCerts is an in-memory certificate scan: certificates by holder,
// returned in hash order with each holder's in reverse number order (the
// scan does not promise any order within a holder).
type scanCerts struct {
	byHolder map[string][]HolderCert
	scans    int
}

func (s *scanCerts) hashes() []string {
	var hs []string
	for h := range s.byHolder {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	return hs
}

func (s *scanCerts) HolderCerts(_ context.Context, hashes []string) (map[string][]HolderCert, error) {
	out := map[string][]HolderCert{}
	for _, h := range hashes {
		if c, ok := s.byHolder[h]; ok {
			out[h] = append([]HolderCert(nil), c...)
		}
	}
	return out, nil
}

func (s *scanCerts) ScanCerts(_ context.Context, after string, limit int) ([]ScannedCert, error) {
	s.scans++
	var out []ScannedCert
	for _, h := range s.hashes() {
		if h <= after {
			continue
		}
		certs := s.byHolder[h]
		for i := len(certs) - 1; i >= 0; i-- {
			if len(out) == limit {
				return out, nil
			}
			out = append(out, ScannedCert{Hash: h, HolderCert: certs[i]})
		}
	}
	return out, nil
}

// holderStates is the holder states of a walk; the rest of Store is not
// used by the walk.
type holderStates struct {
	Store
	states []*Holder // by hash
}

func (h *holderStates) StatsHoldersAfter(_ context.Context, after string, limit int) ([]*Holder, error) {
	var out []*Holder
	for _, st := range h.states {
		if st.Hash > after && len(out) < limit {
			out = append(out, st)
		}
	}
	return out, nil
}

// TestHolderWalkGroupsWholeHolders walks holders with more certificates
// than a scan returns, at every batch size, and expects each holder once,
// whole, with its certificates by number, merged with the holder states
// (a state without certificates included).
func TestHolderWalkGroupsWholeHolders(t *testing.T) {
	certs := &scanCerts{byHolder: map[string][]HolderCert{}}
	sizes := map[string]int{"a": 1, "b": 3, "c": 1, "d": 5, "f": 2}
	for h, n := range sizes {
		for i := range n {
			certs.byHolder[h] = append(certs.byHolder[h], HolderCert{Number: fmt.Sprintf("%s-%d", h, i), Level: 1 + i%5})
		}
	}
	states := &holderStates{states: []*Holder{{Hash: "b", Version: 2}, {Hash: "e", Version: 1}, {Hash: "f", Version: 4}}}
	for batch := 1; batch <= 13; batch++ {
		certs.scans = 0
		k := NewKeeper(states, certs, nil)
		w := &holderWalk{k: k, batch: batch}
		var got []string
		for {
			hash, hc, st, ok, err := w.next(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			if st == nil || st.Hash != hash {
				t.Fatalf("batch %d: holder %s has the state %+v", batch, hash, st)
			}
			want := append([]HolderCert(nil), certs.byHolder[hash]...)
			SortCerts(want)
			if len(want) == 0 {
				want = nil
			}
			if !reflect.DeepEqual(hc, want) {
				t.Fatalf("batch %d: holder %s has %v, want %v (whole, by number)", batch, hash, hc, want)
			}
			got = append(got, fmt.Sprintf("%s:v%d", hash, st.Version))
		}
		want := []string{"a:v0", "b:v2", "c:v0", "d:v0", "e:v1", "f:v4"}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: walked %v, want %v", batch, got, want)
		}
		if batch > 12 && certs.scans != 1 {
			t.Errorf("batch %d: %d scans of 12 certificates, want 1", batch, certs.scans)
		}
	}
}

// TestTierCertAndDeltas checks the counting rules on one holder: the
// highest valid level places them, a tie goes to the latest issue date,
// and the deltas of a revocation move the worker and count the revoked
// certificate in all sixteen rollups.
func TestTierCertAndDeltas(t *testing.T) {
	a := HolderCert{Number: "A", Level: 3, Province: "11", Category: "6", Channel: "social", IssuedOn: "2010-05-01"}
	b := HolderCert{Number: "B", Level: 3, Province: "44", Category: "6", Channel: "social", IssuedOn: "2012-05-01"}
	c := HolderCert{Number: "C", Level: 4, Province: "31", Category: "4", Channel: "school", IssuedOn: "2015-05-01"}
	if got, ok := TierCert([]HolderCert{a, b, c}); !ok || got.Number != "B" {
		t.Fatalf("tier of A, B, C: %v %v, want B (level 3, later)", got, ok)
	}
	rb := b
	rb.Revoked = true
	if got, _ := TierCert([]HolderCert{a, rb, c}); got.Number != "A" {
		t.Fatalf("tier with B revoked: %v, want A", got)
	}
	if _, ok := TierCert([]HolderCert{rb}); ok {
		t.Fatal("a holder whose only certificate is revoked is not a skilled worker")
	}
	deltas := DeltasBetween([]HolderCert{a, b}, []HolderCert{a, rb})
	m := map[string]int64{}
	for _, d := range deltas {
		m[d.Cell] = d.N
	}
	all := Cell{Province: CellAll, Category: CellAll, Channel: CellAll, Level: 3, Year: CellAllYears}
	for kind, want := range map[string]int64{CellRevoked: 1, CellWorkers: 0, CellIssued: 0} {
		cell := all
		cell.Kind = kind
		if m[cell.ID()] != want {
			t.Errorf("%s national rollup: %d, want %d", kind, m[cell.ID()], want)
		}
	}
	gd := Cell{Kind: CellWorkers, Province: "44", Category: "6", Channel: "social", Level: 3, Year: 2012}
	bj := Cell{Kind: CellWorkers, Province: "11", Category: "6", Channel: "social", Level: 3, Year: 2010}
	if m[gd.ID()] != -1 || m[bj.ID()] != 1 {
		t.Errorf("the worker moves from 44/2012 to 11/2010: %d, %d", m[gd.ID()], m[bj.ID()])
	}
	// Revoked +1 in 16 rollups; the worker -1 and +1 in 16 each, of which
	// the 4 with province and year both "all" cancel.
	if len(deltas) != 16+12+12 {
		t.Errorf("%d deltas, want 40", len(deltas))
	}
	if ds := DeltasBetween([]HolderCert{a}, []HolderCert{a}); len(ds) != 0 {
		t.Errorf("no change makes deltas %v", ds)
	}
}
