package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// testStatusIndexes: a status index is stored and read back, a taken index
// is ECONFLICT on "status_index" with nothing written and no serial used
// up, and the migration methods find and fill certificates without one.
func testStatusIndexes(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	if m, err := s.MaxStatusIndex(ctx); err != nil || m != 0 {
		t.Fatalf("MaxStatusIndex of an empty store = %d, %v; want 0", m, err)
	}
	c1 := newCert(issuerA, 1)
	c1.StatusIndex = 4242
	mustCreate(t, s, c1)
	got, err := s.Certificate(ctx, c1.Number)
	if err != nil || got.StatusIndex != 4242 {
		t.Fatalf("Certificate(%s).StatusIndex = %v, %v; want 4242", c1.Number, got, err)
	}

	dup := newCert(issuerA, 2)
	dup.StatusIndex = 4242
	created, err := s.CreateCertificate(ctx, prefixOf(issuerA, dup.Level), dup)
	if created || registry.ErrorCode(err) != registry.ECONFLICT || registry.ErrorField(err) != "status_index" {
		t.Fatalf("CreateCertificate with a taken status index = %v, %v; want ECONFLICT on status_index", created, err)
	}
	next := newCert(issuerA, 3)
	next.StatusIndex = 7
	mustCreate(t, s, next)
	if want := registry.FormatNumber(prefixOf(issuerA, next.Level), 2); next.Number != want {
		t.Errorf("after a refused status index the next number is %s, want %s (no serial used up)", next.Number, want)
	}

	// Certificates without an index (older databases).
	old1, old2 := newCert(issuerA, 4), newCert(issuerA, 5)
	mustCreate(t, s, old1)
	mustCreate(t, s, old2)
	without, err := s.CertificatesWithoutStatusIndex(ctx, 10)
	slices.Sort(without)
	if err != nil || !slices.Equal(without, []string{old1.Number, old2.Number}) {
		t.Fatalf("CertificatesWithoutStatusIndex = %v, %v; want %s and %s", without, err, old1.Number, old2.Number)
	}
	if lim, _ := s.CertificatesWithoutStatusIndex(ctx, 1); len(lim) != 1 {
		t.Errorf("CertificatesWithoutStatusIndex(limit 1) returned %d", len(lim))
	}
	wantCode(t, "SetStatusIndex to a taken index", s.SetStatusIndex(ctx, old1.Number, 7), registry.ECONFLICT)
	if err := s.SetStatusIndex(ctx, old1.Number, 7); registry.ErrorField(err) != "status_index" {
		t.Errorf("SetStatusIndex to a taken index: field %q, want status_index", registry.ErrorField(err))
	}
	if err := s.SetStatusIndex(ctx, old1.Number, 99_999); err != nil {
		t.Fatalf("SetStatusIndex: %v", err)
	}
	err = s.SetStatusIndex(ctx, old1.Number, 100_000)
	if registry.ErrorCode(err) != registry.ECONFLICT || registry.ErrorField(err) != "" {
		t.Errorf("SetStatusIndex on an indexed certificate = %v; want ECONFLICT without a field", err)
	}
	wantCode(t, "SetStatusIndex of a missing certificate", s.SetStatusIndex(ctx, "S000011000001243999999", 100_001), registry.ENOTFOUND)
	if got, _ := s.Certificate(ctx, old1.Number); got.StatusIndex != 99_999 {
		t.Errorf("after SetStatusIndex the index is %d", got.StatusIndex)
	}
	if without, _ := s.CertificatesWithoutStatusIndex(ctx, 10); !slices.Equal(without, []string{old2.Number}) {
		t.Errorf("CertificatesWithoutStatusIndex after one was set = %v", without)
	}
	if m, err := s.MaxStatusIndex(ctx); err != nil || m < 99_999 {
		t.Errorf("MaxStatusIndex = %d, %v; want at least 99999", m, err)
	}

	// Revoked indexes: only revoked certificates that have one.
	if _, err := s.RevokeCertificate(ctx, c1.Number, "test", at(10)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeCertificate(ctx, old2.Number, "no index", at(11)); err != nil {
		t.Fatal(err)
	}
	revoked, err := s.RevokedStatusIndexes(ctx)
	if err != nil || !slices.Equal(revoked, []int{4242}) {
		t.Errorf("RevokedStatusIndexes = %v, %v; want [4242]", revoked, err)
	}
}

// testAPIKeys: the lifecycle of an API key.
func testAPIKeys(t *testing.T, s registry.Store) {
	ctx := context.Background()
	if list, err := s.APIKeys(ctx); err != nil || len(list) != 0 {
		t.Fatalf("APIKeys of an empty store = %v, %v", list, err)
	}
	k1 := &registry.APIKey{ID: "ak_1", Name: "HR 甲", Hash: "h1", Hint: "sk_…abcd", RatePerMinute: 100, CreatedBy: "admin", CreatedAt: at(1)}
	k2 := &registry.APIKey{ID: "ak_2", Name: "HR 乙", Hash: "h2", Hint: "sk_…efgh", CreatedBy: "admin", CreatedAt: at(2)}
	for _, k := range []*registry.APIKey{k1, k2} {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			t.Fatalf("CreateAPIKey(%s): %v", k.ID, err)
		}
	}
	wantCode(t, "CreateAPIKey with a taken id", s.CreateAPIKey(ctx, &registry.APIKey{ID: "ak_1", Name: "x", Hash: "h3", CreatedAt: at(3)}), registry.ECONFLICT)
	wantCode(t, "CreateAPIKey with a taken hash", s.CreateAPIKey(ctx, &registry.APIKey{ID: "ak_3", Name: "x", Hash: "h1", CreatedAt: at(3)}), registry.ECONFLICT)

	got, err := s.APIKeyByHash(ctx, "h1")
	if err != nil || *got != *k1 {
		t.Fatalf("APIKeyByHash = %+v, %v; want %+v", got, err, k1)
	}
	_, err = s.APIKeyByHash(ctx, "nope")
	wantCode(t, "APIKeyByHash of an unknown hash", err, registry.ENOTFOUND)

	list, err := s.APIKeys(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "ak_1" || list[1].ID != "ak_2" {
		t.Fatalf("APIKeys = %v, %v; want ak_1, ak_2", list, err)
	}
	rev, err := s.RevokeAPIKey(ctx, "ak_1", at(5))
	if err != nil || rev.RevokedAt == nil || !rev.RevokedAt.Equal(at(5)) {
		t.Fatalf("RevokeAPIKey = %+v, %v", rev, err)
	}
	_, err = s.RevokeAPIKey(ctx, "ak_1", at(6))
	wantCode(t, "RevokeAPIKey twice", err, registry.ECONFLICT)
	_, err = s.RevokeAPIKey(ctx, "ak_9", at(6))
	wantCode(t, "RevokeAPIKey of an unknown key", err, registry.ENOTFOUND)
	if got, _ := s.APIKeyByHash(ctx, "h1"); got == nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at(5)) {
		t.Errorf("a revoked key reads back as %+v", got)
	}
}
