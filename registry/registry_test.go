package registry_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// TestMain makes password hashes cheap: the tests create and log in users
// often, and bcrypt at the production cost would be most of their time.
func TestMain(m *testing.M) {
	registry.PasswordCost = bcrypt.MinCost
	os.Exit(m.Run())
}

// fixture is a Registry over a real SQLite file with a pinned clock.
type fixture struct {
	reg   *registry.Registry
	store *sqlite.Store
	vault *registry.Vault
	admin *registry.User
	now   time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: st, vault: vault, now: time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)}
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, f.now); err != nil {
		t.Fatal(err)
	}
	f.reg = registry.New(registry.Config{Store: st, Tokens: verify.NewTokens(ks.Source()), Vault: vault, Clock: func() time.Time { return f.now }})
	f.admin = &registry.User{ID: "admin", Username: "admin", Role: registry.RoleAdmin}
	return f
}

func (f *fixture) issuerUser(t *testing.T, in registry.IssuerInput) *registry.User {
	t.Helper()
	is, err := f.reg.CreateIssuer(context.Background(), f.admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return &registry.User{ID: "u-" + is.ID, Username: "u-" + is.ID, Role: registry.RoleIssuer, IssuerID: is.ID}
}

var centre = registry.IssuerInput{Name: "北京鉴定中心", Kind: "S", OrgCode: "0001", Province: "11", Site: "000001",
	Scope: registry.Scope{Occupations: []string{"6-18", "4-04-05"}, MaxLevel: 2}}

func issueInput(over func(*registry.IssueInput)) registry.IssueInput {
	in := registry.IssueInput{HolderName: "张小三", IDNumber: "11010519491231002X", OccupationCode: "6-18-01-01", Level: 3, Channel: registry.ChannelSocial}
	if over != nil {
		over(&in)
	}
	return in
}

func TestIssueRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)

	c, created, err := f.reg.Issue(ctx, u, issueInput(nil))
	if err != nil || !created {
		t.Fatalf("Issue: %v %v", created, err)
	}
	// 2026-03-01 02:00 UTC is 10:00 in China; year 26, level 3, serial 1.
	if c.Number != "S000111000001263000001" || c.IssuedOn != "2026-03-01" {
		t.Fatalf("number %s issued %s", c.Number, c.IssuedOn)
	}
	if c.HolderIDMasked != "110105********002X" || c.HolderIDHash != f.vault.HashID("11010519491231002X") {
		t.Fatalf("holder fields %+v", c)
	}
	if id, err := f.vault.DecryptID(c.HolderIDCipher); err != nil || id != "11010519491231002X" {
		t.Fatalf("cipher does not open to the ID: %q %v", id, err)
	}
	// A 15-digit legacy ID is the same person as its 18-digit form.
	c2, _, err := f.reg.Issue(ctx, u, issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105491231002"; in.Level = 4 }))
	if err != nil || c2.HolderIDHash != c.HolderIDHash {
		t.Fatalf("legacy ID: %v, same person %v", err, c2 != nil && c2.HolderIDHash == c.HolderIDHash)
	}
	// The China date decides the year: 2026-12-31 20:00 UTC is 2027 in China.
	f.now = time.Date(2026, 12, 31, 20, 0, 0, 0, time.UTC)
	c3, _, err := f.reg.Issue(ctx, u, issueInput(nil))
	if err != nil || c3.IssuedOn != "2027-01-01" || !strings.HasPrefix(c3.Number, "S000111000001273") {
		t.Fatalf("year boundary: %v %s %s", err, c3.IssuedOn, c3.Number)
	}

	tests := []struct {
		name  string
		in    registry.IssueInput
		code  string
		field string
	}{
		{"level above scope", issueInput(func(in *registry.IssueInput) { in.Level = 1 }), registry.EFORBIDDEN, ""},
		{"occupation outside scope", issueInput(func(in *registry.IssueInput) { in.OccupationCode = "2-02-07-11" }), registry.EFORBIDDEN, ""},
		{"unknown occupation", issueInput(func(in *registry.IssueInput) { in.OccupationCode = "6-18-01-77" }), registry.EINVALID, "occupation_code"},
		{"bad check digit", issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105194912310021" }), registry.EINVALID, "id_number"},
		{"name with star", issueInput(func(in *registry.IssueInput) { in.HolderName = "张*" }), registry.EINVALID, "holder_name"},
		{"channel", issueInput(func(in *registry.IssueInput) { in.Channel = "x" }), registry.EINVALID, "channel"},
		{"before 2000", issueInput(func(in *registry.IssueInput) { in.IssuedOn = "1999-12-31" }), registry.EINVALID, "issued_on"},
	}
	for _, tt := range tests {
		_, _, err := f.reg.Issue(ctx, u, tt.in)
		if registry.ErrorCode(err) != tt.code || registry.ErrorField(err) != tt.field {
			t.Errorf("%s: %v, want %s on %q", tt.name, err, tt.code, tt.field)
		}
	}
	for _, who := range []*registry.User{nil, f.admin, {Role: registry.RoleOfficial}} {
		if _, _, err := f.reg.Issue(ctx, who, issueInput(nil)); err == nil {
			t.Errorf("%v could issue", who)
		}
	}
}

func TestRevokeAndVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.issuerUser(t, centre)
	other := centre
	other.OrgCode = "0002"
	b := f.issuerUser(t, other)
	c, _, err := f.reg.Issue(ctx, a, issueInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.reg.Token(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.reg.Verify(ctx, tok)
	if err != nil || res.Status != registry.VerifyValid || res.Certificate.HolderName != "张*三" || res.Certificate.IssuerName != "北京鉴定中心" || res.Certificate.OccupationName != "车工" {
		t.Fatalf("verify: %+v %v", res, err)
	}
	// Another issuer neither reads nor revokes it: it does not exist for them.
	if _, err := f.reg.Certificate(ctx, b, c.Number); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Fatalf("other issuer reads: %v", err)
	}
	if _, err := f.reg.Revoke(ctx, b, c.Number, "x"); registry.ErrorCode(err) != registry.ENOTFOUND {
		t.Fatalf("other issuer revokes: %v", err)
	}
	if _, err := f.reg.Revoke(ctx, a, c.Number, ""); registry.ErrorField(err) != "reason" {
		t.Fatalf("revoke without reason: %v", err)
	}
	f.now = f.now.Add(time.Hour)
	if _, err := f.reg.Revoke(ctx, a, c.Number, "录入错误"); err != nil {
		t.Fatal(err)
	}
	res, err = f.reg.Verify(ctx, tok)
	if err != nil || res.Status != registry.VerifyRevoked || res.Certificate.RevokeReason != "录入错误" || !res.Certificate.RevokedAt.Equal(f.now) {
		t.Fatalf("after revoke: %+v %v", res, err)
	}
	// Statuses for tokens that are not ours or not registered.
	tampered := []byte(tok)
	if i := len(tok) - 10; tampered[i] == 'A' {
		tampered[i] = 'B'
	} else {
		tampered[i] = 'A'
	}
	for tok, want := range map[string]string{"": registry.VerifyMalformed, "a.b.c": registry.VerifyMalformed, string(tampered): registry.VerifyForged} {
		if res, err := f.reg.Verify(ctx, tok); err != nil || res.Status != want || res.Certificate != nil {
			t.Errorf("Verify(%.20q) = %+v, %v; want %s", tok, res, err, want)
		}
	}
}

func TestUsersAndLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	created, err := f.reg.EnsureAdmin(ctx, "first-password")
	if err != nil || !created {
		t.Fatalf("EnsureAdmin: %v %v", created, err)
	}
	if created, err := f.reg.EnsureAdmin(ctx, "other-password"); err != nil || created {
		t.Fatalf("second EnsureAdmin: %v %v", created, err)
	}
	if _, err := f.reg.Authenticate(ctx, "admin", "first-password"); err != nil {
		t.Fatal(err)
	}
	_, e1 := f.reg.Authenticate(ctx, "admin", "other-password")
	_, e2 := f.reg.Authenticate(ctx, "nobody", "other-password")
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
		t.Fatalf("login errors differ or are missing: %v / %v", e1, e2)
	}
	u, err := f.reg.CreateUser(ctx, f.admin, registry.UserInput{Username: "gd-official", Password: "a-long-password", Role: registry.RoleOfficial, Province: "44"})
	if err != nil || u.PasswordHash == "" || strings.Contains(u.PasswordHash, "a-long-password") {
		t.Fatalf("CreateUser: %+v %v", u, err)
	}
	if _, err := f.reg.CreateUser(ctx, u, registry.UserInput{Username: "x-user", Password: "a-long-password", Role: registry.RoleAdmin}); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Fatalf("official creates a user: %v", err)
	}
}

// TestIssueSigned: one call issues and signs; the token verifies, is the
// certificate's Token, and a retry with the same external_ref returns the
// same certificate and token without issuing again.
func TestIssueSigned(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	in := issueInput(func(in *registry.IssueInput) { in.ExternalRef = "erp-1" })
	c, tok, created, err := f.reg.IssueSigned(ctx, u, in)
	if err != nil || !created {
		t.Fatalf("IssueSigned = %v, %v", created, err)
	}
	if want, err := f.reg.Token(ctx, c); err != nil || tok != want {
		t.Errorf("token %q, want the certificate's Token %q (%v)", tok, want, err)
	}
	if res, err := f.reg.Verify(ctx, tok); err != nil || res.Status != registry.VerifyValid || res.Certificate.Number != c.Number {
		t.Errorf("verify: %+v, %v", res, err)
	}
	again, tok2, created, err := f.reg.IssueSigned(ctx, u, in)
	if err != nil || created || again.Number != c.Number || tok2 != tok {
		t.Errorf("retry = %s, %v, %v; want %s, not created, the same token", again.Number, created, err, c.Number)
	}
	if _, _, _, err := f.reg.IssueSigned(ctx, f.admin, in); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("an admin issuing: %v, want EFORBIDDEN", err)
	}
}
