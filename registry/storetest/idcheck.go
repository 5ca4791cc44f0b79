package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// testIDChecks: counts go up by one per charge, per holder and day; a
// refund takes one back and never goes below zero; a charge of a later
// day starts from one; concurrent charges each get their own count.
func testIDChecks(t *testing.T, s registry.Store) {
	ctx := context.Background()
	const a, b = "holder-a", "holder-b"
	for want := 1; want <= 3; want++ {
		if n, err := s.ChargeIDCheck(ctx, a, "2026-12-06"); err != nil || n != want {
			t.Fatalf("charge %d of a: %d, %v", want, n, err)
		}
	}
	if n, err := s.ChargeIDCheck(ctx, b, "2026-12-06"); err != nil || n != 1 {
		t.Fatalf("first charge of b: %d, %v", n, err)
	}
	if err := s.RefundIDCheck(ctx, a, "2026-12-06"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ChargeIDCheck(ctx, a, "2026-12-06"); err != nil || n != 3 {
		t.Fatalf("charge after a refund: %d, %v; want 3", n, err)
	}
	for i := 0; i < 2; i++ {
		if err := s.RefundIDCheck(ctx, b, "2026-12-06"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.ChargeIDCheck(ctx, b, "2026-12-06"); err != nil || n != 1 {
		t.Fatalf("refunds went below zero: next charge %d, %v; want 1", n, err)
	}
	if err := s.RefundIDCheck(ctx, "nobody", "2026-12-06"); err != nil {
		t.Fatalf("refund of a count that does not exist: %v", err)
	}
	if n, err := s.ChargeIDCheck(ctx, a, "2026-12-07"); err != nil || n != 1 {
		t.Fatalf("charge on the next day: %d, %v; want 1", n, err)
	}

	const workers = 20
	seen := make([]bool, workers+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.ChargeIDCheck(ctx, "holder-c", "2026-12-07")
			mu.Lock()
			defer mu.Unlock()
			if err != nil || n < 1 || n > workers || seen[n] {
				t.Errorf("concurrent charge: %d, %v", n, err)
				return
			}
			seen[n] = true
		}()
	}
	wg.Wait()
}
