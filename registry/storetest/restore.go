package storetest

import (
	"context"
	"reflect"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// This file is the contract of registry.Restorer, which `skillreg
// migrate` writes into: records are stored as they are offered, a record
// already stored is skipped when it is the same and is ECONFLICT when it
// differs, and each call says how many it stored.

// imported checks one Import call's count and error code.
func imported(t *testing.T, what string, n int, err error, wantN int, wantCode string) {
	t.Helper()
	if registry.ErrorCode(err) != wantCode || (wantCode == "" && n != wantN) {
		t.Errorf("%s = %d, %v; want %d, code %q", what, n, err, wantN, wantCode)
	}
}

func testRestorer(t *testing.T, s registry.Store) {
	r, ok := s.(registry.Restorer)
	if !ok {
		t.Fatalf("%T is not a registry.Restorer: `skillreg migrate` cannot copy into it", s)
	}
	ctx := context.Background()

	a, b := newIssuer(issuerA), newIssuer(issuerB)
	n, err := r.ImportIssuers(ctx, []*registry.Issuer{a, b})
	imported(t, "ImportIssuers", n, err, 2, "")
	n, err = r.ImportIssuers(ctx, []*registry.Issuer{a, b})
	imported(t, "ImportIssuers again", n, err, 0, "")
	other := newIssuer(issuerA)
	other.Name = "另一个机构"
	n, err = r.ImportIssuers(ctx, []*registry.Issuer{other})
	imported(t, "ImportIssuers of a different issuer under a stored ID", n, err, 0, registry.ECONFLICT)
	if got, err := s.Issuer(ctx, issuerA); err != nil || !reflect.DeepEqual(got, a) {
		t.Errorf("after the conflict, Issuer = %+v, %v; want %+v", got, err, a)
	}

	u := &registry.User{ID: "u1", Username: "clerk", PasswordHash: "$2a$h", Role: registry.RoleIssuer, IssuerID: issuerA, CreatedAt: at(1)}
	n, err = r.ImportUsers(ctx, []*registry.User{u})
	imported(t, "ImportUsers", n, err, 1, "")
	n, err = r.ImportUsers(ctx, []*registry.User{u})
	imported(t, "ImportUsers again", n, err, 0, "")
	taken := &registry.User{ID: "u2", Username: "clerk", PasswordHash: "$2a$i", Role: registry.RoleAdmin, CreatedAt: at(2)}
	n, err = r.ImportUsers(ctx, []*registry.User{taken})
	imported(t, "ImportUsers of another user with a taken username", n, err, 0, registry.ECONFLICT)

	k1 := &registry.SigningKey{ID: "k1", Algorithm: "EdDSA", Public: []byte{1}, Sealed: []byte{2}, CreatedAt: at(1)}
	k2 := &registry.SigningKey{ID: "k2", Algorithm: "EdDSA", Public: []byte{3}, Sealed: []byte{4}, Active: true, CreatedAt: at(2)}
	if err := s.CreateSigningKey(ctx, &registry.SigningKey{ID: "k0", Algorithm: "EdDSA", Public: []byte{5}, Sealed: []byte{6}, Active: true, CreatedAt: at(0)}); err != nil {
		t.Fatal(err)
	}
	n, err = r.ImportSigningKeys(ctx, []*registry.SigningKey{k1, k2})
	imported(t, "ImportSigningKeys", n, err, 2, "")
	n, err = r.ImportSigningKeys(ctx, []*registry.SigningKey{k1, k2})
	imported(t, "ImportSigningKeys again", n, err, 0, "")
	keys, err := s.SigningKeys(ctx)
	var active []string
	for _, k := range keys {
		if k.Active {
			active = append(active, k.ID)
		}
	}
	if err != nil || len(keys) != 3 || !reflect.DeepEqual(active, []string{"k2"}) {
		t.Errorf("after the import, active keys %v of %d (%v); want only the offered active one, k2", active, len(keys), err)
	}
	forged := *k1
	forged.Sealed = []byte{9}
	n, err = r.ImportSigningKeys(ctx, []*registry.SigningKey{&forged})
	imported(t, "ImportSigningKeys of a different key under a stored ID", n, err, 0, registry.ECONFLICT)

	prefix := prefixOf(issuerA, registry.Level3)
	c1, c2 := newCert(issuerA, 1), newCert(issuerA, 2)
	c1.Number, c2.Number = registry.FormatNumber(prefix, 1), registry.FormatNumber(prefix, 2)
	c2.ExternalRef, c2.StatusIndex = "erp-2", 42
	n, err = r.ImportCertificates(ctx, []*registry.Certificate{c1, c2})
	imported(t, "ImportCertificates", n, err, 2, "")
	n, err = r.ImportCertificates(ctx, []*registry.Certificate{c1, c2})
	imported(t, "ImportCertificates again", n, err, 0, "")
	changed := *c1
	changed.HolderName = "别人"
	n, err = r.ImportCertificates(ctx, []*registry.Certificate{&changed})
	imported(t, "ImportCertificates of a different certificate under a stored number", n, err, 0, registry.ECONFLICT)
	if got, err := s.Certificate(ctx, c1.Number); err != nil || got.HolderName != c1.HolderName {
		t.Errorf("after the conflict, Certificate = %+v, %v; want the first one kept", got, err)
	}
	// Revoked in the source since it was copied: the revocation is
	// applied. A revocation is never undone by a copy.
	revokedAt := at(100)
	revoked := *c1
	revoked.Status, revoked.RevokedAt, revoked.RevokeReason = registry.StatusRevoked, &revokedAt, "录入错误"
	n, err = r.ImportCertificates(ctx, []*registry.Certificate{&revoked, c2})
	imported(t, "ImportCertificates of a certificate revoked since", n, err, 0, "")
	if got, err := s.Certificate(ctx, c1.Number); err != nil || !reflect.DeepEqual(got, &revoked) {
		t.Errorf("after importing its revocation, Certificate = %+v, %v; want %+v", got, err, &revoked)
	}
	n, err = r.ImportCertificates(ctx, []*registry.Certificate{c1})
	imported(t, "ImportCertificates of a valid certificate stored revoked", n, err, 0, registry.ECONFLICT)
	otherReason := revoked
	otherReason.HolderName = "别人"
	n, err = r.ImportCertificates(ctx, []*registry.Certificate{&otherReason})
	imported(t, "ImportCertificates of a revoked certificate that differs otherwise too", n, err, 0, registry.ECONFLICT)
	// Serials: raised, never lowered; then issuing continues after them.
	if err := r.ImportSerials(ctx, map[string]int{prefix: 2}); err != nil {
		t.Fatal(err)
	}
	if err := r.ImportSerials(ctx, map[string]int{prefix: 1}); err != nil {
		t.Fatal(err)
	}
	if serials, err := r.Serials(ctx); err != nil || serials[prefix] != 2 {
		t.Errorf("Serials = %v, %v; want %s at 2", serials, err, prefix)
	}
	next := newCert(issuerA, 3)
	if _, err := s.CreateCertificate(ctx, prefix, next); err != nil || next.Number != registry.FormatNumber(prefix, 3) {
		t.Errorf("issuing after the import: %s, %v; want serial 3", next.Number, err)
	}
	again := newCert(issuerA, 4)
	again.ExternalRef = "erp-2"
	if created, err := s.CreateCertificate(ctx, prefix, again); err != nil || created || again.Number != c2.Number {
		t.Errorf("issuing an imported external_ref again: %v, %v, %s; want the imported %s", created, err, again.Number, c2.Number)
	}

	e1, e2 := auditEntry(1), auditEntry(2)
	e1.Link(nil)
	e2.Link(e1)
	n, err = r.ImportAuditEntries(ctx, []*registry.AuditEntry{e1, e2})
	imported(t, "ImportAuditEntries", n, err, 2, "")
	n, err = r.ImportAuditEntries(ctx, []*registry.AuditEntry{e1, e2})
	imported(t, "ImportAuditEntries again", n, err, 0, "")
	if head, err := s.AuditHead(ctx); err != nil || head.Seq != 2 || head.Hash != e2.Hash {
		t.Errorf("AuditHead after the import = %+v, %v; want seq 2 %s", head, err, e2.Hash)
	}
	fork := auditEntry(3)
	fork.Link(e1) // another entry 2
	n, err = r.ImportAuditEntries(ctx, []*registry.AuditEntry{fork})
	imported(t, "ImportAuditEntries of another entry under a stored seq", n, err, 0, registry.ECONFLICT)
	e3 := auditEntry(3)
	if err := s.AppendAudit(ctx, e3); err != nil || e3.Seq != 3 || e3.Prev != e2.Hash {
		t.Errorf("appending after the import: seq %d prev %s, %v; want 3 after %s", e3.Seq, e3.Prev, err, e2.Hash)
	}

	cp := &registry.AuditCheckpoint{Count: 2, HeadHash: e2.Hash, Time: at(5), KeyID: "k2", JWS: "h.p.s"}
	n, err = r.ImportAuditCheckpoints(ctx, []*registry.AuditCheckpoint{cp})
	imported(t, "ImportAuditCheckpoints", n, err, 1, "")
	n, err = r.ImportAuditCheckpoints(ctx, []*registry.AuditCheckpoint{cp})
	imported(t, "ImportAuditCheckpoints again", n, err, 0, "")
	resigned := *cp
	resigned.JWS = "h.p.other"
	n, err = r.ImportAuditCheckpoints(ctx, []*registry.AuditCheckpoint{&resigned})
	imported(t, "ImportAuditCheckpoints of another checkpoint at a stored count", n, err, 0, registry.ECONFLICT)
	if got, err := s.AuditCheckpoint(ctx, 2); err != nil || !reflect.DeepEqual(got, cp) {
		t.Errorf("AuditCheckpoint(2) = %+v, %v; want %+v", got, err, cp)
	}
}
