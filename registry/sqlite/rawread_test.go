package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// storeWithCertificates is a store with n certificates of one issuer; it
// returns the store, its path and the certificates' numbers.
func storeWithCertificates(t testing.TB, n int) (*Store, string, []string) {
	t.Helper()
	ctx := context.Background()
	s, path := openTemp(t)
	const id = "S000011000001"
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	prefix := registry.NumberPrefix(id, 2024, 3)
	nums := make([]string, n)
	for i := range n {
		c := testCert(id, i)
		if _, err := s.CreateCertificate(ctx, prefix, c); err != nil {
			t.Fatal(err)
		}
		nums[i] = c.Number
	}
	return s, path, nums
}

func TestRawReaderManyGoroutinesFewConnections(t *testing.T) {
	_, path, nums := storeWithCertificates(t, 20)
	r := newRawReader(dsn(path, url.Values{"_query_only": {"1"}}), `SELECT holder_name || '/' || number FROM certificates WHERE number = ?`, 2)
	defer r.close()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				num := nums[(g+i)%len(nums)]
				v, ok, err := r.text(num)
				if err != nil || !ok || !strings.HasSuffix(v, "/"+num) {
					errs <- fmt.Errorf("text(%s) = %q, %v, %v", num, v, ok, err)
					return
				}
				if len(r.slots) > 2 {
					errs <- fmt.Errorf("%d connections open, limit 2", len(r.slots))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if _, ok, err := r.text("S000011000001243000999"); ok || err != nil {
		t.Errorf("a number with no row: ok %v, err %v; want false, nil", ok, err)
	}
}

func TestRawReaderSeesWritesAtOnce(t *testing.T) {
	ctx := context.Background()
	s, _, nums := storeWithCertificates(t, 3)
	if _, err := s.VerificationRecord(ctx, nums[1]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeCertificate(ctx, nums[1], "测试", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	c, err := s.VerificationRecord(ctx, nums[1])
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != registry.StatusRevoked || c.RevokeReason != "测试" {
		t.Errorf("after the update: status %q, reason %q; want revoked, 测试", c.Status, c.RevokeReason)
	}
}

func TestRawReaderErrors(t *testing.T) {
	_, path, nums := storeWithCertificates(t, 1)
	d := dsn(path, url.Values{"_query_only": {"1"}})

	// A query the database cannot prepare: each call fails and gives its
	// connection's slot back.
	bad := newRawReader(d, `SELECT x FROM no_such_table WHERE x = ?`, 1)
	for range 3 {
		if _, _, err := bad.text("x"); err == nil || !strings.Contains(err.Error(), "no_such_table") {
			t.Errorf("a query of a missing table: err %v", err)
		}
	}
	if len(bad.slots) != 0 {
		t.Errorf("%d slots held after failed opens", len(bad.slots))
	}
	bad.close()

	// A value that is not text.
	num := newRawReader(d, `SELECT level FROM certificates WHERE number = ?`, 1)
	if _, _, err := num.text(nums[0]); err == nil || !strings.Contains(err.Error(), "not text") {
		t.Errorf("an integer value: err %v", err)
	}
	if len(num.slots) != 0 || len(num.idle) != 0 {
		t.Errorf("the connection of a failed query was kept: %d slots, %d idle", len(num.slots), len(num.idle))
	}
	num.close()
}

func TestRawReaderClose(t *testing.T) {
	s, path, nums := storeWithCertificates(t, 1)
	r := newRawReader(dsn(path, url.Values{"_query_only": {"1"}}), verificationQuery, 2)
	inUse, err := r.get()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := r.text(nums[0]); !ok || err != nil {
		t.Fatalf("text: %v, %v", ok, err)
	}
	r.close()
	if len(r.idle) != 0 || len(r.slots) != 1 {
		t.Errorf("after close: %d idle, %d slots; want 0 and the 1 in use", len(r.idle), len(r.slots))
	}
	r.put(inUse, true)
	if len(r.idle) != 0 || len(r.slots) != 0 {
		t.Errorf("after the one in use came back: %d idle, %d slots; want none", len(r.idle), len(r.slots))
	}
	if _, _, err := r.text(nums[0]); !errors.Is(err, errRawClosed) {
		t.Errorf("text after close: %v; want %v", err, errRawClosed)
	}
	r.close() // twice is harmless

	// The store's own: VerificationRecord after Close is an error.
	s.Close()
	if _, err := s.VerificationRecord(context.Background(), nums[0]); err == nil {
		t.Error("VerificationRecord after Close: no error")
	}
}

func TestVerificationConnectionsMapTheFile(t *testing.T) {
	s, _, _ := storeWithCertificates(t, 1)
	db, err := sql.Open("sqlite", s.verification.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(`PRAGMA mmap_size`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2147418112 {
		t.Errorf("a verification connection's mmap_size is %d; want 2147418112", n)
	}
	if err := db.QueryRow(`PRAGMA query_only`).Scan(&n); err != nil || n != 1 {
		t.Errorf("a verification connection's query_only is %d (%v); want 1", n, err)
	}
}

// TestVerificationReadsAFileThatGrew: after the verification connections
// have mapped the file, another store on it adds certificates and moves
// them from the write-ahead log into the file, which grows past the
// mapped size; the verification read finds them all.
func TestVerificationReadsAFileThatGrew(t *testing.T) {
	ctx := context.Background()
	s, path, nums := storeWithCertificates(t, 2)
	if _, err := s.VerificationRecord(ctx, nums[0]); err != nil {
		t.Fatal(err)
	}
	var before int64
	if err := s.read.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&before); err != nil {
		t.Fatal(err)
	}
	other, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const id = "S000011000001"
	prefix := registry.NumberPrefix(id, 2024, 3)
	var added []string
	for i := range 2000 {
		c := testCert(id, 100+i)
		if _, err := other.CreateCertificate(ctx, prefix, c); err != nil {
			t.Fatal(err)
		}
		added = append(added, c.Number)
	}
	if _, err := other.write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	var after int64
	if err := s.read.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if after < 2*before {
		t.Fatalf("the file grew from %d to %d pages only", before, after)
	}
	for _, num := range added {
		c, err := s.VerificationRecord(ctx, num)
		if err != nil {
			t.Fatalf("VerificationRecord(%s) after the file grew: %v", num, err)
		}
		if c.Number != num || c.Status != registry.StatusValid {
			t.Fatalf("VerificationRecord(%s) = %s, %s", num, c.Number, c.Status)
		}
	}
}
