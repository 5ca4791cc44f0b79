package signedcache

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCacheReuse: a Doc is reused while the bits are the same and it is
// younger than MaxAge; new bits, age or a clock set back sign again; a
// failed signature is an error and the next call signs again.
func TestCacheReuse(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	signs := 0
	var fail error
	sign := func(_ context.Context, now time.Time) (string, time.Time, error) {
		if fail != nil {
			return "", time.Time{}, fail
		}
		signs++
		return "doc" + strconv.Itoa(signs), now.Truncate(time.Second), nil
	}
	c := New(time.Minute)
	get := func(bits string, at time.Time) *Doc {
		t.Helper()
		d, err := c.Get(ctx, bits, func() time.Time { return at }, sign)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := get("A", t0)
	if string(first.Body) != "doc1" || first.Signed != t0 || len(first.ETag) < 3 || first.ETag[0] != '"' {
		t.Fatalf("first: %+v", first)
	}
	steps := []struct {
		name   string
		bits   string
		at     time.Time
		signs  int
		reused bool
	}{
		{"same bits, 59 s later", "A", t0.Add(59 * time.Second), 1, true},
		{"same bits, a minute later", "A", t0.Add(time.Minute), 2, false},
		{"new bits", "B", t0.Add(time.Minute), 3, false},
		{"clock set back", "B", t0, 4, false},
		{"again at once", "B", t0, 4, true},
	}
	prev := first
	for _, st := range steps {
		d := get(st.bits, st.at)
		if signs != st.signs {
			t.Fatalf("%s: %d signatures, want %d", st.name, signs, st.signs)
		}
		if (d == prev) != st.reused {
			t.Fatalf("%s: reused %v", st.name, d == prev)
		}
		if d != prev && d.ETag == prev.ETag {
			t.Fatalf("%s: a new body with the old ETag", st.name)
		}
		prev = d
	}
	fail = errors.New("no signer")
	if _, err := c.Get(ctx, "C", func() time.Time { return t0 }, sign); !errors.Is(err, fail) {
		t.Fatalf("failed sign: %v", err)
	}
	fail = nil
	if d := get("C", t0); string(d.Body) != "doc5" {
		t.Fatalf("after a failure: %s", d.Body)
	}
}

// TestCacheConcurrent: requests that queue behind a signature reuse it,
// even when their clock is read just before the signer's.
func TestCacheConcurrent(t *testing.T) {
	var mu sync.Mutex
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	tick := t0
	clock := func() time.Time { // a clock that moves a millisecond a reading
		mu.Lock()
		defer mu.Unlock()
		tick = tick.Add(time.Millisecond)
		return tick
	}
	var signs atomic.Int32
	sign := func(_ context.Context, now time.Time) (string, time.Time, error) {
		signs.Add(1)
		time.Sleep(10 * time.Millisecond)
		return "doc", now, nil
	}
	c := New(time.Minute)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := c.Get(context.Background(), "A", clock, sign); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := signs.Load(); n != 1 {
		t.Fatalf("%d signatures for 20 concurrent requests, want 1", n)
	}
}
