package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// This file is the audit log's part of the contract.

func auditEntry(i int) *registry.AuditEntry {
	return &registry.AuditEntry{
		Time: at(i), Event: "certificate.issued", Actor: fmt.Sprintf("user%d", i%3),
		Attrs: map[string]string{"number": fmt.Sprintf("S00001100000124300%04d", i), "level": "3", "reason": "引号\"<&>"},
	}
}

// testAuditChain: appends get seqs 1, 2, 3..., each linked to the one
// before, and read back exactly as appended.
func testAuditChain(t *testing.T, s registry.Store) {
	ctx := context.Background()
	_, err := s.AuditHead(ctx)
	wantCode(t, "head of an empty log", err, registry.ENOTFOUND)
	if got, err := s.AuditEntries(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("entries of an empty log: %v, %v", got, err)
	}
	var appended []*registry.AuditEntry
	for i := 1; i <= 25; i++ {
		e := auditEntry(i)
		if i == 7 {
			e.Attrs = nil // no attrs reads back as an empty map
		}
		if err := s.AppendAudit(ctx, e); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		if e.Seq != int64(i) {
			t.Fatalf("append %d got seq %d", i, e.Seq)
		}
		appended = append(appended, e)
	}
	if appended[0].Prev != registry.AuditGenesis {
		t.Errorf("first prev = %s", appended[0].Prev)
	}
	head, err := s.AuditHead(ctx)
	if err != nil || head.Seq != 25 || head.Hash != appended[24].Hash {
		t.Fatalf("head = %+v, %v", head, err)
	}
	var got []*registry.AuditEntry
	for after := int64(0); ; {
		page, err := s.AuditEntries(ctx, after, 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 10 {
			break
		}
		after = page[len(page)-1].Seq
	}
	if len(got) != 25 {
		t.Fatalf("read %d entries, want 25", len(got))
	}
	for i, e := range got {
		want := appended[i]
		if e.Seq != want.Seq || !e.Time.Equal(want.Time) || e.Event != want.Event || e.Actor != want.Actor ||
			e.Prev != want.Prev || e.Hash != want.Hash || fmt.Sprint(e.Attrs) != fmt.Sprint(nonNilMap(want.Attrs)) {
			t.Errorf("entry %d read back as %+v, appended %+v", i+1, e, want)
		}
		if e.ComputeHash() != e.Hash {
			t.Errorf("entry %d: stored content does not hash to its hash", e.Seq)
		}
		if i > 0 && e.Prev != got[i-1].Hash {
			t.Errorf("entry %d: prev is not the hash of entry %d", e.Seq, i)
		}
	}
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// testConcurrentAudit: concurrent appenders produce one gap-free chain.
func testConcurrentAudit(t *testing.T, s registry.Store) {
	ctx := context.Background()
	const writers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := s.AppendAudit(ctx, auditEntry(w*each+i)); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("append: %v", err)
	}
	all, err := s.AuditEntries(ctx, 0, writers*each+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each {
		t.Fatalf("%d entries, want %d", len(all), writers*each)
	}
	prev := registry.AuditGenesis
	for i, e := range all {
		if e.Seq != int64(i+1) || e.Prev != prev || e.ComputeHash() != e.Hash {
			t.Fatalf("entry %d: seq %d prev %s: the chain breaks", i+1, e.Seq, e.Prev)
		}
		prev = e.Hash
	}
}

// testAuditCheckpoints: one checkpoint per count; the latest, a given one
// and a listing.
func testAuditCheckpoints(t *testing.T, s registry.Store) {
	ctx := context.Background()
	_, err := s.AuditCheckpoint(ctx, 0)
	wantCode(t, "latest checkpoint of none", err, registry.ENOTFOUND)
	for i, n := range []int64{1000, 5, 2000} {
		cp := &registry.AuditCheckpoint{Count: n, HeadHash: fmt.Sprintf("%064d", n), Time: at(i), KeyID: "k1", JWS: fmt.Sprintf("h.p%d.s", n)}
		if err := s.CreateAuditCheckpoint(ctx, cp); err != nil {
			t.Fatalf("checkpoint %d: %v", n, err)
		}
	}
	err = s.CreateAuditCheckpoint(ctx, &registry.AuditCheckpoint{Count: 5, HeadHash: "x", Time: at(9), KeyID: "k2", JWS: "other"})
	wantCode(t, "second checkpoint at 5", err, registry.ECONFLICT)

	latest, err := s.AuditCheckpoint(ctx, 0)
	if err != nil || latest.Count != 2000 || latest.JWS != "h.p2000.s" || !latest.Time.Equal(at(2)) || latest.KeyID != "k1" {
		t.Fatalf("latest = %+v, %v", latest, err)
	}
	five, err := s.AuditCheckpoint(ctx, 5)
	if err != nil || five.HeadHash != fmt.Sprintf("%064d", 5) || five.JWS != "h.p5.s" {
		t.Fatalf("checkpoint 5 = %+v, %v", five, err)
	}
	_, err = s.AuditCheckpoint(ctx, 6)
	wantCode(t, "checkpoint 6", err, registry.ENOTFOUND)
	list, err := s.AuditCheckpoints(ctx, 5, 10)
	if err != nil || len(list) != 2 || list[0].Count != 1000 || list[1].Count != 2000 {
		t.Fatalf("checkpoints after 5 = %v, %v", list, err)
	}
	list, err = s.AuditCheckpoints(ctx, 0, 1)
	if err != nil || len(list) != 1 || list[0].Count != 5 {
		t.Fatalf("first checkpoint = %v, %v", list, err)
	}
}
