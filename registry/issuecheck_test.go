package registry_test

import (
	"context"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// TestCheckIssueAgreesWithIssue: for every input, CheckIssue returns the
// error Issue returns (same code and field), and CheckIssue alone writes
// nothing.
func TestCheckIssueAgreesWithIssue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	tests := []struct {
		name  string
		actor *registry.User
		in    registry.IssueInput
		code  string
		field string
	}{
		{"valid", u, issueInput(nil), "", ""},
		{"valid legacy ID", u, issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105491231002"; in.Level = 5 }), "", ""},
		{"level above scope", u, issueInput(func(in *registry.IssueInput) { in.Level = 1 }), registry.EFORBIDDEN, ""},
		{"occupation outside scope", u, issueInput(func(in *registry.IssueInput) { in.OccupationCode = "2-02-07-11" }), registry.EFORBIDDEN, ""},
		{"unknown occupation", u, issueInput(func(in *registry.IssueInput) { in.OccupationCode = "6-18-01-77" }), registry.EINVALID, "occupation_code"},
		{"bad check digit", u, issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105194912310021" }), registry.EINVALID, "id_number"},
		{"level 0", u, issueInput(func(in *registry.IssueInput) { in.Level = 0 }), registry.EINVALID, "level"},
		{"channel", u, issueInput(func(in *registry.IssueInput) { in.Channel = "x" }), registry.EINVALID, "channel"},
		{"future date", u, issueInput(func(in *registry.IssueInput) { in.IssuedOn = "2026-03-02" }), registry.EINVALID, "issued_on"},
		{"bad date", u, issueInput(func(in *registry.IssueInput) { in.IssuedOn = "2026-02-30" }), registry.EINVALID, "issued_on"},
		{"no name", u, issueInput(func(in *registry.IssueInput) { in.HolderName = " " }), registry.EINVALID, "holder_name"},
		{"admin", f.admin, issueInput(nil), registry.EFORBIDDEN, ""},
		{"anonymous", nil, issueInput(nil), registry.EUNAUTHORIZED, ""},
		{"unknown issuer", &registry.User{Role: registry.RoleIssuer, IssuerID: "S999911000001"}, issueInput(nil), registry.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		checkErr := f.reg.CheckIssue(ctx, tt.actor, tt.in)
		if registry.ErrorCode(checkErr) != tt.code || registry.ErrorField(checkErr) != tt.field {
			t.Errorf("%s: CheckIssue = %v, want %q on %q", tt.name, checkErr, tt.code, tt.field)
		}
		if _, total, err := f.store.Certificates(ctx, registry.CertificateFilter{}); err != nil || total != 0 {
			t.Fatalf("%s: CheckIssue wrote: %d certificates, %v", tt.name, total, err)
		}
	}
	for _, tt := range tests {
		_, _, issueErr := f.reg.Issue(ctx, tt.actor, tt.in)
		if registry.ErrorCode(issueErr) != tt.code || registry.ErrorField(issueErr) != tt.field {
			t.Errorf("%s: Issue = %v, but CheckIssue agreed on %q on %q", tt.name, issueErr, tt.code, tt.field)
		}
	}
}

// TestFindDuplicate: an external_ref match (any status) comes first; else
// a valid certificate of the same holder, occupation and level of the
// same organisation; revoked ones, other levels and other organisations'
// certificates are not duplicates.
func TestFindDuplicate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.issuerUser(t, centre)
	other := centre
	other.OrgCode = "0002"
	b := f.issuerUser(t, other)

	withRef, _, err := f.reg.Issue(ctx, a, issueInput(func(in *registry.IssueInput) { in.ExternalRef = "class-1/1"; in.Level = 4 }))
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := f.reg.Issue(ctx, a, issueInput(nil)) // level 3, no ref
	if err != nil {
		t.Fatal(err)
	}
	revoked, _, err := f.reg.Issue(ctx, a, issueInput(func(in *registry.IssueInput) { in.Level = 5 }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Revoke(ctx, a, revoked.Number, "录入错误"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Revoke(ctx, a, withRef.Number, "录入错误"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		actor *registry.User
		in    registry.IssueInput
		want  string // certificate number, "" for ENOTFOUND
	}{
		{"same ref, revoked", a, issueInput(func(in *registry.IssueInput) { in.ExternalRef = " class-1/1 "; in.Level = 4 }), withRef.Number},
		{"same ref wins over same holder", a, issueInput(func(in *registry.IssueInput) { in.ExternalRef = "class-1/1" }), withRef.Number},
		{"same holder, occupation, level", a, issueInput(nil), plain.Number},
		{"legacy form of the same ID", a, issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105491231002" }), plain.Number},
		{"other level", a, issueInput(func(in *registry.IssueInput) { in.Level = 2 }), ""},
		{"revoked only", a, issueInput(func(in *registry.IssueInput) { in.Level = 5 }), ""},
		{"other occupation", a, issueInput(func(in *registry.IssueInput) { in.OccupationCode = "6-18-01-02" }), ""},
		{"other holder", a, issueInput(func(in *registry.IssueInput) { in.IDNumber = "440524198001010013" }), ""},
		{"other organisation", b, issueInput(nil), ""},
	}
	for _, tt := range tests {
		c, err := f.reg.FindDuplicate(ctx, tt.actor, tt.in)
		switch {
		case tt.want == "" && registry.ErrorCode(err) != registry.ENOTFOUND:
			t.Errorf("%s: %v %v, want not found", tt.name, c, err)
		case tt.want != "" && (err != nil || c.Number != tt.want):
			t.Errorf("%s: %v %v, want %s", tt.name, c, err, tt.want)
		}
	}
	if _, err := f.reg.FindDuplicate(ctx, a, issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105194912310021" })); registry.ErrorField(err) != "id_number" {
		t.Errorf("bad ID: %v", err)
	}
	if _, err := f.reg.FindDuplicate(ctx, f.admin, issueInput(nil)); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("admin: %v", err)
	}
}

// TestFindDuplicates: each input's answer, from one read of all the
// holders, is FindDuplicate's for that input alone, repeated holders,
// bad ID numbers and holders with no certificate included.
func TestFindDuplicates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a := f.issuerUser(t, centre)
	withRef, _, err := f.reg.Issue(ctx, a, issueInput(func(in *registry.IssueInput) { in.ExternalRef = "class-1/1"; in.Level = 4 }))
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := f.reg.Issue(ctx, a, issueInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	ins := []registry.IssueInput{
		issueInput(nil),
		issueInput(func(in *registry.IssueInput) { in.ExternalRef = "class-1/1" }),
		issueInput(func(in *registry.IssueInput) { in.Level = 2 }),
		issueInput(func(in *registry.IssueInput) { in.IDNumber = "440524198001010013" }),
		issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105194912310021" }),
		issueInput(func(in *registry.IssueInput) { in.IDNumber = "110105491231002" }),
	}
	want := []string{plain.Number, withRef.Number, "", "", "", plain.Number}
	found, errs, err := f.reg.FindDuplicates(ctx, a, ins)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range ins {
		one, oneErr := f.reg.FindDuplicate(ctx, a, in)
		got := ""
		if found[i] != nil {
			got = found[i].Number
		}
		if got != want[i] || registry.ErrorCode(errs[i]) != registry.ErrorCode(oneErr) || registry.ErrorField(errs[i]) != registry.ErrorField(oneErr) {
			t.Errorf("input %d: %q %v, want %q and FindDuplicate's error %v", i, got, errs[i], want[i], oneErr)
		}
		if (one == nil) != (found[i] == nil) || one != nil && one.Number != got {
			t.Errorf("input %d: %q, FindDuplicate found %v", i, got, one)
		}
	}
	if _, _, err := f.reg.FindDuplicates(ctx, f.admin, ins); registry.ErrorCode(err) != registry.EFORBIDDEN {
		t.Errorf("admin: %v", err)
	}
}
