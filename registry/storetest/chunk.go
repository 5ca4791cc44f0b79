package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// testCertificateChunk: a store that writes several certificates in one
// transaction (registry.CertificateChunkCreator) keeps all of a committed
// chunk, each certificate with its audit entry and the next serial; a
// refused certificate takes back its own writes, serial included, while
// the others stay; reads inside the chunk see its certificates; a chunk
// whose function fails leaves nothing, serials and audit entries included.
func testCertificateChunk(t *testing.T, s registry.Store) {
	cc, ok := s.(registry.CertificateChunkCreator)
	if !ok {
		t.Skip("the store writes certificates one by one")
	}
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	prefix := prefixOf(issuerA, registry.Level3)

	var made []*registry.Certificate
	err := cc.CreateCertificateChunk(ctx, func(tx registry.CertificateChunk) error {
		for i, c := range []*registry.Certificate{newCert(issuerA, 1), newCert(issuerB, 2), newCert(issuerA, 3)} {
			created, err := tx.CreateCertificateAudited(ctx, prefix, c, auditEntry(i+1))
			if i == 1 {
				// issuerB is not stored: refused, and nothing of it kept.
				wantCode(t, "a certificate of an issuer not stored", err, registry.EINVALID)
				continue
			}
			if err != nil || !created {
				t.Fatalf("CreateCertificateAudited %d: %v, %v", i, created, err)
			}
			made = append(made, c)
		}
		held, err := tx.CertificatesByHolders(ctx, []string{made[0].HolderIDHash, made[1].HolderIDHash, "hash-2"})
		if err != nil {
			return err
		}
		if len(held) != 2 || len(held[made[0].HolderIDHash]) != 1 || len(held[made[1].HolderIDHash]) != 1 {
			t.Errorf("inside the chunk, the holders' certificates are %v", held)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("CreateCertificateChunk: %v", err)
	}
	for i, c := range made {
		if want := registry.FormatNumber(prefix, i+1); c.Number != want {
			t.Errorf("certificate %d numbered %s, want %s (serials without a gap)", i, c.Number, want)
		}
		if _, err := s.Certificate(ctx, c.Number); err != nil {
			t.Errorf("Certificate(%s) after the commit: %v", c.Number, err)
		}
	}
	entries, err := s.AuditEntries(ctx, 0, 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("%d audit entries, %v; want the 2 of the created certificates", len(entries), err)
	}

	head := entries[len(entries)-1]
	failed := errors.New("the chunk's work failed")
	err = cc.CreateCertificateChunk(ctx, func(tx registry.CertificateChunk) error {
		for i := range 2 {
			if _, err := tx.CreateCertificateAudited(ctx, prefix, newCert(issuerA, 10+i), auditEntry(10+i)); err != nil {
				t.Fatalf("CreateCertificateAudited: %v", err)
			}
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("CreateCertificateChunk = %v, want the function's error", err)
	}
	if after, err := s.AuditEntries(ctx, head.Seq, 10); err != nil || len(after) != 0 {
		t.Fatalf("a failed chunk left %d audit entries, %v", len(after), err)
	}
	if got, err := s.CertificatesByHolders(ctx, []string{"hash-10", "hash-11"}); err != nil || len(got) != 0 {
		t.Fatalf("a failed chunk left certificates %v, %v", got, err)
	}
	next := mustCreate(t, s, newCert(issuerA, 20))
	if want := registry.FormatNumber(prefix, 3); next.Number != want {
		t.Errorf("after a failed chunk the next certificate is %s, want %s", next.Number, want)
	}
}
