package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// countingStore counts the store's reads, so that the test can check that
// a wrong name and an unknown number do the same work.
type countingStore struct {
	registry.Store
	certReads   atomic.Int64
	issuerReads atomic.Int64
}

func (s *countingStore) Certificate(ctx context.Context, number string) (*registry.Certificate, error) {
	s.certReads.Add(1)
	return s.Store.Certificate(ctx, number)
}

func (s *countingStore) Issuer(ctx context.Context, id string) (*registry.Issuer, error) {
	s.issuerReads.Add(1)
	return s.Store.Issuer(ctx, id)
}

func (s *countingStore) reads() int64 { return s.certReads.Load() + s.issuerReads.Load() }

// lookupFixture is a registry over a real SQLite file with one issuer, one
// issuer user and the signing key.
type lookupFixture struct {
	reg    *registry.Registry
	store  *countingStore
	tokens *verify.Tokens
	issuer *registry.User
}

func newLookupFixture(tb testing.TB) *lookupFixture {
	tb.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "skillreg.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{9}, registry.MasterKeySize))
	if err != nil {
		tb.Fatal(err)
	}
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, time.Now()); err != nil {
		tb.Fatal(err)
	}
	cs := &countingStore{Store: st}
	tokens := verify.NewTokens(ks.Source())
	reg := registry.New(registry.Config{Store: cs, Tokens: tokens, Vault: vault, Logger: slog.New(slog.DiscardHandler)})
	admin := &registry.User{Username: "admin", Role: registry.RoleAdmin}
	if _, err := reg.CreateIssuer(ctx, admin, registry.IssuerInput{
		Name: "北京市职业技能鉴定指导中心", Kind: "S", OrgCode: "0001", Province: "11", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 1},
	}); err != nil {
		tb.Fatal(err)
	}
	return &lookupFixture{reg: reg, store: cs, tokens: tokens, issuer: &registry.User{Username: "center", Role: registry.RoleIssuer, IssuerID: "S000111000001"}}
}

func (f *lookupFixture) issue(tb testing.TB, name, id string) *registry.Certificate {
	tb.Helper()
	c, _, err := f.reg.Issue(context.Background(), f.issuer, registry.IssueInput{
		HolderName: name, IDNumber: id, OccupationCode: "6-18-01-01", Level: 2, Channel: registry.ChannelSocial, IssuedOn: "2026-03-02",
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// TestLookup: a match answers like a QR verification; a wrong name, an
// unknown number and a malformed number give one and the same answer,
// byte for byte; the optional ID number answers only id_matches.
func TestLookup(t *testing.T) {
	ctx := context.Background()
	f := newLookupFixture(t)
	c := f.issue(t, "张小三", "11010519491231002X")
	revoked := f.issue(t, "欧阳娜娜", "440524198001010013")
	if _, err := f.reg.Revoke(ctx, f.issuer, revoked.Number, "录入错误"); err != nil {
		t.Fatal(err)
	}
	tok, err := f.reg.Token(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	qr, err := f.reg.Verify(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	qrJSON, _ := json.Marshal(qr)
	notFound := `{"status":"not_found"}`
	yes, no := true, false

	tests := []struct {
		name, number, holder, id string
		wantJSON                 string // exact answer, when set
		wantStatus               string
		wantID                   *bool
	}{
		{name: "match", number: c.Number, holder: "张小三", wantJSON: string(qrJSON)},
		{name: "match, spaces and lower-case number", number: "  " + strings.ToLower(c.Number) + " ", holder: "\u3000张小三 ", wantJSON: string(qrJSON)},
		{name: "revoked match", number: revoked.Number, holder: "欧阳娜娜", wantStatus: "revoked"},
		{name: "wrong name", number: c.Number, holder: "张小四", wantJSON: notFound},
		{name: "masked name is not the name", number: c.Number, holder: "张*三", wantJSON: notFound},
		{name: "unknown number", number: "S000111000001262000099", holder: "张小三", wantJSON: notFound},
		{name: "unknown issuer", number: "Y123444000001262000001", holder: "张小三", wantJSON: notFound},
		{name: "malformed number", number: "S0001-bogus", holder: "张小三", wantJSON: notFound},
		{name: "empty number", number: "", holder: "张小三", wantJSON: notFound},
		{name: "huge number", number: c.Number + string(bytes.Repeat([]byte("9"), 5000)), holder: "张小三", wantJSON: notFound},
		{name: "id matches", number: c.Number, holder: "张小三", id: "11010519491231002x", wantStatus: "valid", wantID: &yes},
		{name: "id differs", number: c.Number, holder: "张小三", id: "440524198001010013", wantStatus: "valid", wantID: &no},
		{name: "id of revoked matches", number: revoked.Number, holder: "欧阳娜娜", id: "440524198001010013", wantStatus: "revoked", wantID: &yes},
		{name: "right id, wrong name", number: c.Number, holder: "李四", id: "11010519491231002X", wantJSON: notFound},
		{name: "right id, unknown number", number: "S000111000001262000099", holder: "张小三", id: "11010519491231002X", wantJSON: notFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := f.reg.Lookup(ctx, tt.number, tt.holder, tt.id)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.Marshal(res)
			if tt.wantJSON != "" && string(got) != tt.wantJSON {
				t.Fatalf("answer\n %s\nwant\n %s", got, tt.wantJSON)
			}
			if tt.wantStatus != "" && res.Status != tt.wantStatus {
				t.Fatalf("status %q, want %q: %s", res.Status, tt.wantStatus, got)
			}
			switch {
			case tt.wantID == nil && res.IDMatches != nil:
				t.Fatalf("id_matches present: %s", got)
			case tt.wantID != nil && (res.IDMatches == nil || *res.IDMatches != *tt.wantID):
				t.Fatalf("id_matches = %v, want %v: %s", res.IDMatches, *tt.wantID, got)
			}
			if res.Certificate != nil && bytes.Contains(got, []byte("1101051949")) {
				t.Fatalf("answer carries the ID number: %s", got)
			}
		})
	}
}

// TestLookupErrors: bad input is refused whatever the registry holds.
func TestLookupErrors(t *testing.T) {
	f := newLookupFixture(t)
	c := f.issue(t, "张小三", "11010519491231002X")
	tests := []struct {
		name, number, holder, id, field string
	}{
		{"no name", c.Number, "", "", "name"},
		{"blank name", c.Number, " \u3000 ", "", "name"},
		{"long name", c.Number, string(bytes.Repeat([]byte("张"), 65)), "", "name"},
		{"bad check digit", c.Number, "张小三", "110105194912310021", "id_number"},
		{"bad check digit, unknown number", "S000111000001262000099", "张小三", "110105194912310021", "id_number"},
		{"short id", c.Number, "张小三", "1234", "id_number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.store.reads()
			_, err := f.reg.Lookup(context.Background(), tt.number, tt.holder, tt.id)
			if registry.ErrorCode(err) != registry.EINVALID || registry.ErrorField(err) != tt.field {
				t.Fatalf("err = %v, want invalid on %s", err, tt.field)
			}
			if f.store.reads() != before {
				t.Fatal("bad input read the store")
			}
		})
	}
}

// TestLookupSameWork: a wrong name and an unknown number make the same
// store reads (one certificate read, no issuer read), so that their timing
// differs only by noise; the timing itself is not measured (too noisy to
// assert on).
func TestLookupSameWork(t *testing.T) {
	ctx := context.Background()
	f := newLookupFixture(t)
	c := f.issue(t, "张小三", "11010519491231002X")
	type reads struct{ cert, issuer int64 }
	measure := func(number, name, id string) reads {
		c0, i0 := f.store.certReads.Load(), f.store.issuerReads.Load()
		res, err := f.reg.Lookup(ctx, number, name, id)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != registry.VerifyNotFound {
			t.Fatalf("status %s", res.Status)
		}
		return reads{f.store.certReads.Load() - c0, f.store.issuerReads.Load() - i0}
	}
	for _, id := range []string{"", "11010519491231002X"} {
		wrongName := measure(c.Number, "张小四", id)
		unknown := measure("S000111000001262000099", "张小三", id)
		malformed := measure("nonsense", "张小三", id)
		if wrongName != (reads{1, 0}) || unknown != wrongName || malformed != wrongName {
			t.Fatalf("id %q: reads wrong name %+v, unknown number %+v, malformed %+v; want all {1 0}", id, wrongName, unknown, malformed)
		}
	}
}

// TestLookupCountsVerifications: lookups feed the verification metric
// with their outcome.
func TestLookupCountsVerifications(t *testing.T) {
	f := newLookupFixture(t)
	c := f.issue(t, "张小三", "11010519491231002X")
	var got []string
	st := f.store
	vault, _ := registry.NewVault(bytes.Repeat([]byte{9}, registry.MasterKeySize))
	reg := registry.New(registry.Config{Store: st, Tokens: f.tokens, Vault: vault, Hooks: registry.Hooks{Verified: func(s string) { got = append(got, s) }}})
	for _, name := range []string{"张小三", "王五"} {
		if _, err := reg.Lookup(context.Background(), c.Number, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != "valid" || got[1] != "not_found" {
		t.Fatalf("hook saw %v", got)
	}
}

// BenchmarkVerify is a QR verification through SQLite: token check (one
// Ed25519 verify), the certificate read and the issuer read.
func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	f := newLookupFixture(b)
	c := f.issue(b, "张小三", "11010519491231002X")
	tok, err := f.reg.Token(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res, err := f.reg.Verify(ctx, tok); err != nil || res.Status != registry.VerifyValid {
			b.Fatal(res, err)
		}
	}
}

// BenchmarkLookup is a number+name lookup through SQLite, matching and
// not: the two differ by the issuer read a match adds.
func BenchmarkLookup(b *testing.B) {
	ctx := context.Background()
	f := newLookupFixture(b)
	c := f.issue(b, "张小三", "11010519491231002X")
	for _, bb := range []struct{ name, number, holder, want string }{
		{"match", c.Number, "张小三", registry.VerifyValid},
		{"wrong_name", c.Number, "张小四", registry.VerifyNotFound},
		{"unknown_number", "S000111000001262000099", "张小三", registry.VerifyNotFound},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if res, err := f.reg.Lookup(ctx, bb.number, bb.holder, ""); err != nil || res.Status != bb.want {
					b.Fatal(res, err)
				}
			}
		})
	}
}
