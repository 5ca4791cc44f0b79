// Package storetest is the contract every registry.Store passes: one suite,
// run by each implementation's tests against a real database, that checks
// behaviour only through the registry.Store interface.
//
// Times in the suite have millisecond precision, the finest every backend
// keeps (BSON dates are milliseconds); a backend that keeps more checks it
// in its own tests.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// Run runs the contract suite. newStore must return a fresh, empty store
// for each call and arrange its cleanup with t.Cleanup; subtests call it in
// parallel.
func Run(t *testing.T, newStore func(t *testing.T) registry.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s registry.Store)
	}{
		{"Ping", testPing},
		{"Issuers", testIssuers},
		{"Users", testUsers},
		{"UserLifecycle", testUserLifecycle},
		{"CertificateRoundTrip", testCertificateRoundTrip},
		{"TokenMACs", testTokenMACs},
		{"VerificationRecord", testVerificationRecord},
		{"CertificateChunk", testCertificateChunk},
		{"SerialsPerPrefix", testSerialsPerPrefix},
		{"ExternalRef", testExternalRef},
		{"ConcurrentSerials", testConcurrentSerials},
		{"ConcurrentExternalRef", testConcurrentExternalRef},
		{"Revoke", testRevoke},
		{"ConcurrentRevoke", testConcurrentRevoke},
		{"ListFilters", testListFilters},
		{"ListPagination", testListPagination},
		{"CertificatesByHolder", testCertificatesByHolder},
		{"CertificatesByHolders", testCertificatesByHolders},
		{"SigningKeys", testSigningKeys},
		{"EveryFieldKept", testEveryFieldKept},
		{"Restorer", testRestorer},
		// Revocation status lists and employers' API keys.
		{"StatusIndexes", testStatusIndexes},
		{"APIKeys", testAPIKeys},
		// Training records.
		{"TrainingRoundTrip", testTrainingRoundTrip},
		{"TrainingOutcomeAndLink", testTrainingOutcomeAndLink},
		{"TrainingBatch", testTrainingBatch},
		{"TrainingList", testTrainingList},
		{"TrainingCounts", testTrainingCounts},
		{"CertificateTrainingLink", testCertificateTrainingLink},
		// The audit log: audit.go.
		{"AuditChain", testAuditChain},
		{"ConcurrentAudit", testConcurrentAudit},
		{"AuditCheckpoints", testAuditCheckpoints},
		// The statistics counters: stats.go.
		{"StatsCells", testStatsCells},
		{"StatsOps", testStatsOps},
		{"StatsHolders", testStatsHolders},
		{"CertificatesInHolderOrder", testCertificatesInHolderOrder},
		{"StatsMarks", testStatsMarks},
		{"Plans", testPlans},
		// ID checks of lookups: idcheck.go
		{"IDChecks", testIDChecks},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// base is the suite's clock: a fixed instant with millisecond precision.
var base = time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)

func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

const (
	issuerA = "S000011000001" // kind, org code, province 11, site
	issuerB = "Y123444000002"
)

func newIssuer(id string) *registry.Issuer {
	return &registry.Issuer{
		ID:       id,
		Name:     "机构 " + id,
		Kind:     id[:1],
		OrgCode:  id[1:5],
		Province: id[5:7],
		Site:     id[7:13],
		Scope: registry.Scope{
			Occupations: []string{"6-18", "4-04-05"},
			MaxLevel:    registry.Level2,
		},
		CreatedAt: base,
	}
}

// seedIssuers stores the given issuers; certificates and issuer users need
// their issuer to exist.
func seedIssuers(t *testing.T, s registry.Store, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.CreateIssuer(context.Background(), newIssuer(id)); err != nil {
			t.Fatalf("CreateIssuer(%s): %v", id, err)
		}
	}
}

// newCert returns a valid certificate of issuer, not yet numbered; n makes
// the holder and the creation time distinct.
func newCert(issuer string, n int) *registry.Certificate {
	return &registry.Certificate{
		IssuerID:       issuer,
		HolderName:     fmt.Sprintf("持证人%d", n),
		HolderIDMasked: "110105********002X",
		HolderIDHash:   fmt.Sprintf("hash-%d", n),
		HolderIDCipher: []byte{0x00, 0xff, byte(n), 0x10},
		OccupationCode: "6-18-01-01",
		Level:          registry.Level3,
		Channel:        registry.ChannelSocial,
		IssuedOn:       "2024-05-06",
		Status:         registry.StatusValid,
		KeyID:          "key-1",
		CreatedAt:      at(n),
	}
}

func prefixOf(issuer string, level registry.Level) string {
	return registry.NumberPrefix(issuer, 2024, level)
}

// mustCreate stores c under its issuer's 2024 prefix for its level and
// fails the test unless a new certificate was created.
func mustCreate(t *testing.T, s registry.Store, c *registry.Certificate) *registry.Certificate {
	t.Helper()
	created, err := s.CreateCertificate(context.Background(), prefixOf(c.IssuerID, c.Level), c)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	if !created {
		t.Fatalf("CreateCertificate(%+v): created = false, want true", c)
	}
	return c
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := registry.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}

// numbers returns the certificate numbers of list, in order.
func numbers(list []*registry.Certificate) []string {
	out := []string{}
	for _, c := range list {
		out = append(out, c.Number)
	}
	return out
}

func testPing(t *testing.T, s registry.Store) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testIssuers(t *testing.T, s registry.Store) {
	ctx := context.Background()
	if list, err := s.Issuers(ctx); err != nil || len(list) != 0 {
		t.Fatalf("Issuers on an empty store = %v, %v; want none", list, err)
	}
	b, a := newIssuer(issuerB), newIssuer(issuerA)
	a.Scope.Occupations = nil // an absent list must come back absent
	for _, is := range []*registry.Issuer{b, a} {
		if err := s.CreateIssuer(ctx, is); err != nil {
			t.Fatalf("CreateIssuer(%s): %v", is.ID, err)
		}
	}

	got, err := s.Issuer(ctx, issuerB)
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	if !reflect.DeepEqual(got, b) {
		t.Errorf("Issuer round trip:\n got %+v\nwant %+v", got, b)
	}

	dup := newIssuer(issuerA)
	dup.Name = "another name"
	wantCode(t, "CreateIssuer with an existing ID", s.CreateIssuer(ctx, dup), registry.ECONFLICT)
	if got, _ := s.Issuer(ctx, issuerA); got == nil || got.Name != a.Name {
		t.Errorf("a conflicting CreateIssuer changed the stored issuer: %+v", got)
	}

	_, err = s.Issuer(ctx, "S999999999999")
	wantCode(t, "Issuer of a missing ID", err, registry.ENOTFOUND)

	list, err := s.Issuers(ctx)
	if err != nil {
		t.Fatalf("Issuers: %v", err)
	}
	if !reflect.DeepEqual(list, []*registry.Issuer{a, b}) {
		t.Errorf("Issuers = %+v, want [%+v %+v] (ordered by ID)", list, a, b)
	}
}

func testUsers(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	users := []*registry.User{
		{ID: "u1", Username: "admin", PasswordHash: "$2a$hash1", Role: registry.RoleAdmin, CreatedAt: at(1)},
		{ID: "u2", Username: "clerk.a", PasswordHash: "$2a$hash2", Role: registry.RoleIssuer, IssuerID: issuerA, CreatedAt: at(2)},
		{ID: "u3", Username: "official-44", PasswordHash: "$2a$hash3", Role: registry.RoleOfficial, Province: "44", CreatedAt: at(3)},
	}
	for _, u := range users {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Username, err)
		}
	}
	for _, u := range users {
		byName, err := s.UserByUsername(ctx, u.Username)
		if err != nil {
			t.Fatalf("UserByUsername(%s): %v", u.Username, err)
		}
		if !reflect.DeepEqual(byName, u) {
			t.Errorf("UserByUsername round trip:\n got %+v\nwant %+v", byName, u)
		}
		byID, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("UserByID(%s): %v", u.ID, err)
		}
		if !reflect.DeepEqual(byID, u) {
			t.Errorf("UserByID round trip:\n got %+v\nwant %+v", byID, u)
		}
	}

	taken := &registry.User{ID: "u4", Username: "clerk.a", PasswordHash: "x", Role: registry.RoleAdmin, CreatedAt: at(4)}
	wantCode(t, "CreateUser with a taken username", s.CreateUser(ctx, taken), registry.ECONFLICT)
	if u, _ := s.UserByUsername(ctx, "clerk.a"); u == nil || u.ID != "u2" {
		t.Errorf("a conflicting CreateUser replaced the stored user: %+v", u)
	}
	if _, err := s.UserByID(ctx, "u4"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("a conflicting CreateUser stored its user: UserByID error %v", err)
	}

	_, err := s.UserByUsername(ctx, "nobody")
	wantCode(t, "UserByUsername of a missing user", err, registry.ENOTFOUND)
	// Usernames are one name whatever their case: found under any case,
	// and a second user under another case is a conflict.
	if u, err := s.UserByUsername(ctx, "ADMIN"); err != nil || u.ID != "u1" || u.Username != "admin" {
		t.Errorf("UserByUsername(ADMIN) = %+v, %v; want the user admin", u, err)
	}
	if u, err := s.UserByUsername(ctx, "Clerk.A"); err != nil || u.ID != "u2" {
		t.Errorf("UserByUsername(Clerk.A) = %+v, %v; want the user clerk.a", u, err)
	}
	upper := &registry.User{ID: "u5", Username: "Admin", PasswordHash: "x", Role: registry.RoleAdmin, CreatedAt: at(5)}
	wantCode(t, "CreateUser(Admin) beside admin", s.CreateUser(ctx, upper), registry.ECONFLICT)
	if _, err := s.UserByID(ctx, "u5"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("CreateUser(Admin) beside admin stored its user: UserByID error %v", err)
	}
	// Only ASCII letters fold: the Kelvin sign is not a K.
	_, err = s.UserByUsername(ctx, "cler\u212a.a")
	wantCode(t, "UserByUsername with a Kelvin sign", err, registry.ENOTFOUND)
	_, err = s.UserByID(ctx, "u404")
	wantCode(t, "UserByID of a missing user", err, registry.ENOTFOUND)
}

// testUserLifecycle: disabling, re-enabling, a new password and deletion;
// each change of password or of disabled raises the token version by one.
func testUserLifecycle(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	for _, u := range []*registry.User{
		{ID: "u1", Username: "admin", PasswordHash: "$2a$hash1", Role: registry.RoleAdmin, CreatedAt: at(1)},
		{ID: "u2", Username: "Clerk.B", PasswordHash: "$2a$hash2", Role: registry.RoleIssuer, IssuerID: issuerA, CreatedAt: at(2)},
	} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.Username, err)
		}
	}
	check := func(what string, u *registry.User, err error, disabled bool, version int64, hash string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if u.ID != "u2" || u.Disabled != disabled || u.TokenVersion != version || u.PasswordHash != hash || u.Username != "Clerk.B" {
			t.Errorf("%s returned %+v; want disabled %v, token version %d, hash %s", what, u, disabled, version, hash)
		}
		stored, err := s.UserByID(ctx, "u2")
		if err != nil || !reflect.DeepEqual(stored, u) {
			t.Errorf("%s: stored %+v (%v), returned %+v", what, stored, err, u)
		}
	}
	u, err := s.SetUserDisabled(ctx, "u2", true)
	check("SetUserDisabled(true)", u, err, true, 1, "$2a$hash2")
	u, err = s.SetUserDisabled(ctx, "u2", false)
	check("SetUserDisabled(false)", u, err, false, 2, "$2a$hash2")
	u, err = s.SetUserPassword(ctx, "u2", "$2a$hash9")
	check("SetUserPassword", u, err, false, 3, "$2a$hash9")
	if a, err := s.UserByID(ctx, "u1"); err != nil || a.TokenVersion != 0 || a.Disabled {
		t.Errorf("another user changed: %+v, %v", a, err)
	}
	users, err := s.Users(ctx)
	if err != nil || len(users) != 2 || users[0].ID != "u1" || users[1].ID != "u2" || !reflect.DeepEqual(users[1], u) {
		t.Errorf("Users = %+v, %v; want u1, u2 as stored", users, err)
	}

	_, err = s.SetUserDisabled(ctx, "u404", true)
	wantCode(t, "SetUserDisabled of a missing user", err, registry.ENOTFOUND)
	_, err = s.SetUserPassword(ctx, "u404", "x")
	wantCode(t, "SetUserPassword of a missing user", err, registry.ENOTFOUND)
	wantCode(t, "DeleteUser of a missing user", s.DeleteUser(ctx, "u404"), registry.ENOTFOUND)

	if err := s.DeleteUser(ctx, "u2"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err = s.UserByID(ctx, "u2")
	wantCode(t, "UserByID after DeleteUser", err, registry.ENOTFOUND)
	_, err = s.UserByUsername(ctx, "clerk.b")
	wantCode(t, "UserByUsername after DeleteUser", err, registry.ENOTFOUND)
	wantCode(t, "DeleteUser twice", s.DeleteUser(ctx, "u2"), registry.ENOTFOUND)
	// The name is free again, under any case.
	if err := s.CreateUser(ctx, &registry.User{ID: "u3", Username: "clerk.b", PasswordHash: "x", Role: registry.RoleAdmin, CreatedAt: at(3)}); err != nil {
		t.Errorf("CreateUser(clerk.b) after deleting Clerk.B: %v", err)
	}
}

func testCertificateRoundTrip(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	in := newCert(issuerA, 7)
	in.ExternalRef = "erp-0007"
	in.Channel = registry.ChannelSpecial
	in.CreatedAt = time.Date(2024, 5, 6, 15, 8, 9, 456_000_000, registry.ChinaTime) // stored as UTC
	in.TokenMAC = bytes.Repeat([]byte{0xa5}, 32)
	want := *in
	want.CreatedAt = in.CreatedAt.UTC()
	want.HolderIDCipher = slices.Clone(in.HolderIDCipher)
	want.TokenMAC = slices.Clone(in.TokenMAC)

	created, err := s.CreateCertificate(ctx, prefixOf(issuerA, in.Level), in)
	if err != nil || !created {
		t.Fatalf("CreateCertificate = %v, %v; want true, nil", created, err)
	}
	want.Number = prefixOf(issuerA, in.Level) + "000001"
	if in.Number != want.Number {
		t.Fatalf("CreateCertificate set Number %q, want %q", in.Number, want.Number)
	}
	if _, err := registry.ParseNumber(in.Number); err != nil {
		t.Errorf("stored number %q does not parse: %v", in.Number, err)
	}

	got, err := s.Certificate(ctx, in.Number)
	if err != nil {
		t.Fatalf("Certificate: %v", err)
	}
	if got.RevokedAt != nil {
		t.Errorf("RevokedAt = %v, want nil for a valid certificate", got.RevokedAt)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location = %v, want UTC", got.CreatedAt.Location())
	}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("Certificate round trip:\n got %+v\nwant %+v", got, &want)
	}

	_, err = s.Certificate(ctx, prefixOf(issuerA, in.Level)+"000002")
	wantCode(t, "Certificate of a missing number", err, registry.ENOTFOUND)
}

// testTokenMACs: SetTokenMACs replaces a certificate's token MAC, sets one
// where there was none, skips unknown numbers, and reads back through
// every certificate read.
func testTokenMACs(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	a := mustCreate(t, s, newCert(issuerA, 1))
	withMAC := newCert(issuerA, 2)
	withMAC.TokenMAC = bytes.Repeat([]byte{1}, 32)
	b := mustCreate(t, s, withMAC)
	if got, err := s.Certificate(ctx, a.Number); err != nil || got.TokenMAC != nil {
		t.Fatalf("a certificate stored without a MAC reads back %x, %v; want none", got.TokenMAC, err)
	}
	macA, macB := bytes.Repeat([]byte{2}, 32), bytes.Repeat([]byte{3}, 32)
	err := s.SetTokenMACs(ctx, map[string][]byte{a.Number: macA, b.Number: macB, prefixOf(issuerA, 3) + "000099": macA})
	if err != nil {
		t.Fatalf("SetTokenMACs: %v", err)
	}
	for _, c := range []struct {
		number string
		want   []byte
	}{{a.Number, macA}, {b.Number, macB}} {
		got, err := s.Certificate(ctx, c.number)
		if err != nil || !bytes.Equal(got.TokenMAC, c.want) {
			t.Errorf("Certificate(%s).TokenMAC = %x, %v; want %x", c.number, got.TokenMAC, err, c.want)
		}
	}
	list, err := s.CertificatesByHolder(ctx, a.HolderIDHash)
	if err != nil || len(list) == 0 {
		t.Fatalf("CertificatesByHolder: %d, %v", len(list), err)
	}
	for _, c := range list {
		if c.Number == a.Number && !bytes.Equal(c.TokenMAC, macA) {
			t.Errorf("CertificatesByHolder: %s has MAC %x, want %x", c.Number, c.TokenMAC, macA)
		}
	}
	if _, err := s.Certificate(ctx, prefixOf(issuerA, 3)+"000099"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Errorf("SetTokenMACs created a certificate for an unknown number: %v", err)
	}
}

func testSerialsPerPrefix(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA, issuerB)
	steps := []struct {
		issuer string
		year   int
		level  registry.Level
		serial string
	}{
		{issuerA, 2024, 3, "000001"},
		{issuerA, 2024, 3, "000002"},
		{issuerA, 2024, 4, "000001"}, // another level
		{issuerA, 2024, 3, "000003"},
		{issuerA, 2025, 3, "000001"}, // another year
		{issuerB, 2024, 3, "000001"}, // another issuer
		{issuerA, 2025, 3, "000002"},
		{issuerB, 2024, 3, "000002"},
	}
	for i, st := range steps {
		c := newCert(st.issuer, i)
		c.Level = st.level
		prefix := registry.NumberPrefix(st.issuer, st.year, st.level)
		created, err := s.CreateCertificate(ctx, prefix, c)
		if err != nil || !created {
			t.Fatalf("step %d: CreateCertificate = %v, %v", i, created, err)
		}
		if want := prefix + st.serial; c.Number != want {
			t.Errorf("step %d: number %s, want %s", i, c.Number, want)
		}
	}
}

func testExternalRef(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA, issuerB)
	prefix := prefixOf(issuerA, registry.Level3)

	first := newCert(issuerA, 1)
	first.ExternalRef = "batch-7/row-12"
	mustCreate(t, s, first)
	stored, err := s.Certificate(ctx, first.Number)
	if err != nil {
		t.Fatal(err)
	}

	again := newCert(issuerA, 2) // another holder and time, same ref
	again.ExternalRef = first.ExternalRef
	created, err := s.CreateCertificate(ctx, prefix, again)
	if err != nil {
		t.Fatalf("CreateCertificate with a known external_ref: %v", err)
	}
	if created {
		t.Errorf("CreateCertificate with a known external_ref: created = true, want false")
	}
	if !reflect.DeepEqual(again, stored) {
		t.Errorf("CreateCertificate with a known external_ref did not load the stored certificate:\n got %+v\nwant %+v", again, stored)
	}

	// The duplicate used no serial.
	next := mustCreate(t, s, newCert(issuerA, 3))
	if want := prefix + "000002"; next.Number != want {
		t.Errorf("after a deduplicated call the next number is %s, want %s", next.Number, want)
	}

	// The same ref at another issuer is another certificate.
	other := newCert(issuerB, 4)
	other.ExternalRef = first.ExternalRef
	mustCreate(t, s, other)
	if other.IssuerID != issuerB || other.Number != prefixOf(issuerB, registry.Level3)+"000001" {
		t.Errorf("the same external_ref at another issuer gave %+v", other)
	}

	// An empty ref never deduplicates.
	e1, e2 := newCert(issuerA, 5), newCert(issuerA, 5)
	mustCreate(t, s, e1)
	mustCreate(t, s, e2)
	if e1.Number == e2.Number {
		t.Errorf("two certificates without external_ref share number %s", e1.Number)
	}

	_, total, err := s.Certificates(ctx, registry.CertificateFilter{IssuerID: issuerA})
	if err != nil {
		t.Fatal(err)
	}
	if total != 4 {
		t.Errorf("issuer A has %d certificates, want 4", total)
	}
}

func testConcurrentSerials(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	const n = 32
	prefix := prefixOf(issuerA, registry.Level3)
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]string, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			c := newCert(issuerA, i)
			if i%2 == 0 {
				c.ExternalRef = fmt.Sprintf("ref-%d", i) // distinct refs take the lookup path too
			}
			<-start
			created, err := s.CreateCertificate(ctx, prefix, c)
			if err == nil && !created {
				err = fmt.Errorf("created = false")
			}
			results[i], errs[i] = c.Number, err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("goroutine %d: CreateCertificate: %v", i, err)
		}
	}
	sort.Strings(results)
	for i, num := range results {
		if want := registry.FormatNumber(prefix, i+1); num != want {
			t.Fatalf("sorted numbers[%d] = %s, want %s (all: %v)", i, num, want, results)
		}
	}
	_, total, err := s.Certificates(ctx, registry.CertificateFilter{IssuerID: issuerA})
	if err != nil || total != n {
		t.Errorf("stored %d certificates (err %v), want %d", total, err, n)
	}
}

func testConcurrentExternalRef(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	const n = 16
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		certs  = make([]*registry.Certificate, n)
		wasNew = make([]bool, n)
		errs   = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			c := newCert(issuerA, i)
			c.ExternalRef = "same-ref"
			<-start
			wasNew[i], errs[i] = s.CreateCertificate(ctx, prefixOf(issuerA, registry.Level3), c)
			certs[i] = c
		})
	}
	close(start)
	wg.Wait()
	createdBy := -1
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("goroutine %d: CreateCertificate: %v", i, errs[i])
		}
		if wasNew[i] {
			if createdBy >= 0 {
				t.Fatalf("goroutines %d and %d both created a certificate for one external_ref", createdBy, i)
			}
			createdBy = i
		}
	}
	if createdBy < 0 {
		t.Fatal("no goroutine created the certificate")
	}
	winner := certs[createdBy]
	if want := prefixOf(issuerA, registry.Level3) + "000001"; winner.Number != want {
		t.Errorf("the one certificate is %s, want %s", winner.Number, want)
	}
	for i, c := range certs {
		if !reflect.DeepEqual(c, winner) {
			t.Errorf("goroutine %d got %+v, want the created %+v", i, c, winner)
		}
	}
	_, total, err := s.Certificates(ctx, registry.CertificateFilter{IssuerID: issuerA})
	if err != nil || total != 1 {
		t.Errorf("stored %d certificates (err %v), want 1", total, err)
	}
}

func testRevoke(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	c := mustCreate(t, s, newCert(issuerA, 1))
	other := mustCreate(t, s, newCert(issuerA, 2))
	when := at(100).In(registry.ChinaTime)

	got, err := s.RevokeCertificate(ctx, c.Number, "证书信息录入错误", when)
	if err != nil {
		t.Fatalf("RevokeCertificate: %v", err)
	}
	want := *c
	want.Status = registry.StatusRevoked
	want.RevokeReason = "证书信息录入错误"
	wantAt := when.UTC()
	want.RevokedAt = &wantAt
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("RevokeCertificate returned\n %+v\nwant %+v", got, &want)
	}
	if stored, err := s.Certificate(ctx, c.Number); err != nil || !reflect.DeepEqual(stored, &want) {
		t.Errorf("Certificate after revocation = %+v, %v; want %+v", stored, err, &want)
	}

	_, err = s.RevokeCertificate(ctx, c.Number, "again", at(200))
	wantCode(t, "revoking a revoked certificate", err, registry.ECONFLICT)
	if stored, _ := s.Certificate(ctx, c.Number); stored == nil || stored.RevokeReason != want.RevokeReason || !stored.RevokedAt.Equal(wantAt) {
		t.Errorf("a second revocation changed the record: %+v", stored)
	}

	_, err = s.RevokeCertificate(ctx, prefixOf(issuerA, registry.Level3)+"000099", "missing", at(300))
	wantCode(t, "revoking a missing certificate", err, registry.ENOTFOUND)

	if stored, _ := s.Certificate(ctx, other.Number); stored == nil || stored.Status != registry.StatusValid || stored.RevokedAt != nil {
		t.Errorf("revoking one certificate touched another: %+v", stored)
	}
}

func testConcurrentRevoke(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	c := mustCreate(t, s, newCert(issuerA, 1))
	const n = 8
	var (
		wg   sync.WaitGroup
		errs = make([]error, n)
	)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.RevokeCertificate(ctx, c.Number, fmt.Sprintf("reason %d", i), at(10+i))
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch registry.ErrorCode(err) {
		case "":
			won++
		case registry.ECONFLICT:
		default:
			t.Errorf("revocation %d: %v, want success or ECONFLICT", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent revocations succeeded, want exactly 1", won)
	}
}

func testListFilters(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA, issuerB)
	// Created in this order, so newest first is the reverse.
	specs := []struct {
		name   string
		occ    string
		level  registry.Level
		issuer string
	}{
		{"张三", "6-18-01-01", 3, issuerA},    // 0
		{"李四", "6-18-02-03", 4, issuerA},    // 1
		{"王五", "4-04-05-05", 3, issuerA},    // 2
		{"百分%之百", "6-18-01-01", 3, issuerA}, // 3: a LIKE wildcard in a name
		{"下_划线", "6-180-01-01", 4, issuerA}, // 4: not under 6-18; a wildcard too
		{"张小三", "6-18-01-01", 2, issuerA},   // 5
		{"赵六", "6-18-01-01", 3, issuerB},    // 6: another issuer
	}
	c := make([]*registry.Certificate, len(specs))
	for i, sp := range specs {
		x := newCert(sp.issuer, i)
		x.HolderName, x.OccupationCode, x.Level = sp.name, sp.occ, sp.level
		c[i] = mustCreate(t, s, x)
	}
	if _, err := s.RevokeCertificate(ctx, c[1].Number, "error", at(50)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeCertificate(ctx, c[5].Number, "error", at(51)); err != nil {
		t.Fatal(err)
	}
	num := func(idx ...int) []string {
		out := []string{}
		for _, i := range idx {
			out = append(out, c[i].Number)
		}
		return out
	}
	A := issuerA
	tests := []struct {
		name string
		f    registry.CertificateFilter
		want []string
	}{
		{"all of issuer A, newest first", registry.CertificateFilter{IssuerID: A}, num(5, 4, 3, 2, 1, 0)},
		{"all issuers", registry.CertificateFilter{}, num(6, 5, 4, 3, 2, 1, 0)},
		{"issuer B only", registry.CertificateFilter{IssuerID: issuerB}, num(6)},
		{"unknown issuer", registry.CertificateFilter{IssuerID: "S999999999999"}, num()},
		{"valid", registry.CertificateFilter{IssuerID: A, Status: registry.StatusValid}, num(4, 3, 2, 0)},
		{"revoked", registry.CertificateFilter{IssuerID: A, Status: registry.StatusRevoked}, num(5, 1)},
		{"level 3", registry.CertificateFilter{IssuerID: A, Level: 3}, num(3, 2, 0)},
		{"level 3 all issuers", registry.CertificateFilter{Level: 3}, num(6, 3, 2, 0)},
		{"occupation category 6-18", registry.CertificateFilter{IssuerID: A, Occupation: "6-18"}, num(5, 3, 1, 0)},
		{"occupation 6-18-01", registry.CertificateFilter{IssuerID: A, Occupation: "6-18-01"}, num(5, 3, 0)},
		{"occupation exact code", registry.CertificateFilter{IssuerID: A, Occupation: "6-18-02-03"}, num(1)},
		{"occupation 6-180", registry.CertificateFilter{IssuerID: A, Occupation: "6-180"}, num(4)},
		{"occupation major category 4", registry.CertificateFilter{IssuerID: A, Occupation: "4"}, num(2)},
		{"occupation is not a substring", registry.CertificateFilter{IssuerID: A, Occupation: "18-01"}, num()},
		{"name substring", registry.CertificateFilter{IssuerID: A, Query: "三"}, num(5, 0)},
		{"full name", registry.CertificateFilter{IssuerID: A, Query: "王五"}, num(2)},
		{"percent is literal", registry.CertificateFilter{IssuerID: A, Query: "%"}, num(3)},
		{"underscore is literal", registry.CertificateFilter{IssuerID: A, Query: "_"}, num(4)},
		{"backslash is literal", registry.CertificateFilter{IssuerID: A, Query: `\`}, num()},
		{"number prefix", registry.CertificateFilter{IssuerID: A, Query: prefixOf(A, 4)}, num(4, 1)},
		{"whole number", registry.CertificateFilter{Query: c[2].Number}, num(2)},
		{"number is a prefix, not a substring", registry.CertificateFilter{Query: c[2].Number[1:]}, num()},
		{"query at another issuer", registry.CertificateFilter{IssuerID: issuerB, Query: "张"}, num()},
		{"combined", registry.CertificateFilter{IssuerID: A, Status: registry.StatusValid, Level: 3, Occupation: "6-18", Query: "张"}, num(0)},
	}
	for _, tc := range tests {
		list, total, err := s.Certificates(ctx, tc.f)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := numbers(list); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if total != len(tc.want) {
			t.Errorf("%s: total %d, want %d", tc.name, total, len(tc.want))
		}
	}

	// Listed records are whole: the same as a direct read.
	list, _, err := s.Certificates(ctx, registry.CertificateFilter{IssuerID: A, Status: registry.StatusRevoked})
	if err != nil || len(list) == 0 {
		t.Fatalf("Certificates: %v, %v", list, err)
	}
	direct, err := s.Certificate(ctx, list[0].Number)
	if err != nil || !reflect.DeepEqual(list[0], direct) {
		t.Errorf("listed %+v, read %+v (%v)", list[0], direct, err)
	}
}

func testListPagination(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	const n = 105
	all := make([]string, n) // newest first
	for i := range n {
		c := newCert(issuerA, i)
		// Pairs share a creation time, so number breaks the tie.
		c.CreatedAt = at(i / 2)
		mustCreate(t, s, c)
		all[n-1-i] = c.Number
	}
	tests := []struct {
		name          string
		page, perPage int
		want          []string
	}{
		{"first page", 1, 10, all[:10]},
		{"middle page", 3, 10, all[20:30]},
		{"last partial page", 11, 10, all[100:]},
		{"past the end", 12, 10, nil},
		{"page 0 is page 1", 0, 10, all[:10]},
		{"default page size is 20", 1, 0, all[:20]},
		{"negative page size is the default", 2, -5, all[20:40]},
		{"page size is capped at 100", 1, 1000, all[:100]},
		{"capped size, second page", 2, 1000, all[100:]},
	}
	for _, tc := range tests {
		list, total, err := s.Certificates(ctx, registry.CertificateFilter{IssuerID: issuerA, Page: tc.page, PerPage: tc.perPage})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := numbers(list); !slices.Equal(got, append([]string{}, tc.want...)) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if total != n {
			t.Errorf("%s: total %d, want %d", tc.name, total, n)
		}
	}
}

func testCertificatesByHolder(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA, issuerB)
	mk := func(issuer, hash string, n int, level registry.Level) *registry.Certificate {
		c := newCert(issuer, n)
		c.HolderIDHash, c.Level = hash, level
		return mustCreate(t, s, c)
	}
	h1 := mk(issuerA, "holder-1", 1, 4)
	mk(issuerA, "holder-2", 2, 4)
	h3 := mk(issuerB, "holder-1", 3, 2)
	h4 := mk(issuerA, "holder-1", 4, 3)
	if _, err := s.RevokeCertificate(ctx, h4.Number, "error", at(10)); err != nil {
		t.Fatal(err)
	}
	h4, _ = s.Certificate(ctx, h4.Number)

	got, err := s.CertificatesByHolder(ctx, "holder-1")
	if err != nil {
		t.Fatal(err)
	}
	want := []*registry.Certificate{h4, h3, h1} // revoked ones too, newest first
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CertificatesByHolder = %v, want %v", numbers(got), numbers(want))
	}
	if got, err := s.CertificatesByHolder(ctx, "holder-404"); err != nil || len(got) != 0 {
		t.Errorf("CertificatesByHolder of an unknown holder = %v, %v; want none", got, err)
	}
}

func testCertificatesByHolders(t *testing.T, s registry.Store) {
	ctx := context.Background()
	seedIssuers(t, s, issuerA, issuerB)
	n := 0
	mk := func(issuer, hash string, level registry.Level) *registry.Certificate {
		n++
		c := newCert(issuer, n)
		c.HolderIDHash, c.Level = hash, level
		return mustCreate(t, s, c)
	}
	mk(issuerA, "holder-1", 4)
	mk(issuerA, "holder-2", 4)
	mk(issuerB, "holder-1", 2)
	h4 := mk(issuerA, "holder-1", 3)
	mk(issuerA, "holder-3", 1)
	if _, err := s.RevokeCertificate(ctx, h4.Number, "error", at(10)); err != nil {
		t.Fatal(err)
	}
	// More holders than one query takes, so that the parts are joined.
	var many []string
	for i := range 600 {
		h := fmt.Sprintf("many-%03d", i)
		many = append(many, h)
		if i%150 == 0 {
			mk(issuerA, h, 2)
		}
	}
	for _, tc := range []struct {
		name   string
		hashes []string
	}{
		{"none", nil},
		{"one", []string{"holder-1"}},
		{"several, unknown and repeated", []string{"holder-2", "holder-404", "holder-1", "holder-2"}},
		{"many", append(many, "holder-3")},
	} {
		got, err := s.CertificatesByHolders(ctx, tc.hashes)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := map[string][]*registry.Certificate{}
		for _, h := range tc.hashes {
			list, err := s.CertificatesByHolder(ctx, h)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) > 0 {
				want[h] = list
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: CertificatesByHolders returned %d holders, want %d (the same as CertificatesByHolder one by one)", tc.name, len(got), len(want))
			for h, list := range want {
				if !reflect.DeepEqual(got[h], list) {
					t.Errorf("%s: holder %s: %v, want %v", tc.name, h, numbers(got[h]), numbers(list))
				}
			}
		}
	}
	if got, _ := s.CertificatesByHolders(ctx, []string{"holder-1"}); len(got["holder-1"]) != 3 {
		t.Errorf("holder-1 has %d certificates, want 3 (both issuers, the revoked one too)", len(got["holder-1"]))
	}
}

func testSigningKeys(t *testing.T, s registry.Store) {
	ctx := context.Background()
	if keys, err := s.SigningKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys on an empty store = %v, %v; want none", keys, err)
	}
	key := func(id string, sec int, active bool) *registry.SigningKey {
		return &registry.SigningKey{
			ID: id, Algorithm: "EdDSA", Active: active, CreatedAt: at(sec),
			Public: []byte("public-" + id), Sealed: []byte("sealed-" + id),
		}
	}
	k1, k2, k3, k0 := key("k1", 10, true), key("k2", 20, true), key("k3", 30, false), key("k0", 5, false)
	steps := []struct {
		add        *registry.SigningKey
		wantOrder  []string
		wantActive string
	}{
		{k1, []string{"k1"}, "k1"},
		{k2, []string{"k1", "k2"}, "k2"},             // a new active key retires the old one
		{k3, []string{"k1", "k2", "k3"}, "k2"},       // an inactive key changes nothing
		{k0, []string{"k0", "k1", "k2", "k3"}, "k2"}, // ordered by creation, not insertion
	}
	for i, st := range steps {
		if err := s.CreateSigningKey(ctx, st.add); err != nil {
			t.Fatalf("step %d: CreateSigningKey(%s): %v", i, st.add.ID, err)
		}
		keys, err := s.SigningKeys(ctx)
		if err != nil {
			t.Fatalf("step %d: SigningKeys: %v", i, err)
		}
		var order, active []string
		for _, k := range keys {
			order = append(order, k.ID)
			if k.Active {
				active = append(active, k.ID)
			}
		}
		if !slices.Equal(order, st.wantOrder) {
			t.Errorf("step %d: keys %v, want %v (oldest first)", i, order, st.wantOrder)
		}
		if !slices.Equal(active, []string{st.wantActive}) {
			t.Errorf("step %d: active keys %v, want only %s", i, active, st.wantActive)
		}
	}
	keys, err := s.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	retired := *k1
	retired.Active = false
	if !reflect.DeepEqual(keys[1], &retired) {
		t.Errorf("SigningKeys round trip:\n got %+v\nwant %+v", keys[1], &retired)
	}
}
