package mongo

import (
	"context"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// TestImportKeepsStatusIndexesUnique: certificates copied in by `skillreg
// migrate` bring their status-index claims, so a later certificate cannot
// take an index a copied one holds; and an orphan claim (a crash between
// claim and insert) only wastes its index.
func TestImportKeepsStatusIndexesUnique(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openTest(t)
	is := &registry.Issuer{ID: "S000111000001", Name: "机构", Kind: "S", OrgCode: "0001", Province: "11", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 2}, CreatedAt: time.Unix(0, 0).UTC()}
	if err := s.CreateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	cert := func(number string, idx int) *registry.Certificate {
		return &registry.Certificate{Number: number, IssuerID: is.ID, HolderName: "张三", HolderIDMasked: "110105********002X",
			HolderIDHash: "h", HolderIDCipher: []byte{1}, OccupationCode: "6-18-01-01", Level: 3, Channel: registry.ChannelSocial,
			IssuedOn: "2024-01-01", Status: registry.StatusValid, KeyID: "k", CreatedAt: time.Unix(1, 0).UTC(), StatusIndex: idx}
	}
	n, err := s.ImportCertificates(ctx, []*registry.Certificate{cert("S000111000001243000001", 500), cert("S000111000001243000002", 0)})
	if err != nil || n != 2 {
		t.Fatalf("ImportCertificates = %d, %v", n, err)
	}
	// Re-running the import writes nothing and is no conflict.
	if n, err := s.ImportCertificates(ctx, []*registry.Certificate{cert("S000111000001243000001", 500)}); err != nil || n != 0 {
		t.Fatalf("re-import = %d, %v", n, err)
	}
	c := cert("", 500)
	created, err := s.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, 3), c)
	if created || registry.ErrorField(err) != "status_index" {
		t.Fatalf("a new certificate with an imported index: %v %v, want ECONFLICT on status_index", created, err)
	}
	if m, err := s.MaxStatusIndex(ctx); err != nil || m != 500 {
		t.Fatalf("MaxStatusIndex = %d, %v", m, err)
	}
	// An orphan claim: the index stays taken, nothing else breaks.
	if err := s.claimStatusIndex(ctx, 900, ""); err != nil {
		t.Fatal(err)
	}
	c = cert("", 900)
	if _, err := s.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, 3), c); registry.ErrorField(err) != "status_index" {
		t.Fatalf("an orphan-claimed index: %v", err)
	}
	c = cert("", 901)
	if created, err := s.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, 3), c); err != nil || !created || c.Number != "S000111000001243000003" {
		t.Fatalf("after refusals: %v %v %s (serials must not be used up)", created, err, c.Number)
	}
	if revoked, err := s.RevokedStatusIndexes(ctx); err != nil || len(revoked) != 0 {
		t.Fatalf("RevokedStatusIndexes = %v, %v", revoked, err)
	}
}
