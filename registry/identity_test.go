package registry_test

import (
	"context"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// TestIdentityOneNamePerIDNumber: the holder's name is the name on their
// latest valid certificate; another name is EIDENTITY (the same from
// CheckIssue as from Issue) naming it masked, unless a name change is
// stated; a revoked certificate does not hold its name.
func TestIdentityOneNamePerIDNumber(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	named := func(name string, level registry.Level, reason string) registry.IssueInput {
		return issueInput(func(in *registry.IssueInput) { in.HolderName, in.Level, in.NameChangeReason = name, level, reason })
	}
	if _, _, err := f.reg.Issue(ctx, u, named("陈小明", 3, "")); err != nil {
		t.Fatal(err)
	}
	// The same name with stray spaces is the same name.
	if _, _, err := f.reg.Issue(ctx, u, named(" 陈小明 ", 4, "")); err != nil {
		t.Fatalf("same name again: %v", err)
	}
	for _, check := range []func(registry.IssueInput) error{
		func(in registry.IssueInput) error { return f.reg.CheckIssue(ctx, u, in) },
		func(in registry.IssueInput) error { _, _, err := f.reg.Issue(ctx, u, in); return err },
	} {
		err := check(named("刘芳", 5, ""))
		masked, ok := registry.IdentityConflictName(err)
		if registry.ErrorCode(err) != registry.EIDENTITY || registry.ErrorField(err) != "holder_name" || !ok || masked != "陈*明" {
			t.Fatalf("another name: %v (masked %q); want EIDENTITY naming 陈*明", err, masked)
		}
	}
	changed, created, err := f.reg.Issue(ctx, u, named("刘芳", 5, "户籍更名"))
	if err != nil || !created || changed.HolderName != "刘芳" {
		t.Fatalf("stated change: %v %v %v", changed, created, err)
	}
	if _, _, err := f.reg.Issue(ctx, u, named("陈小明", 2, "")); registry.ErrorCode(err) != registry.EIDENTITY {
		t.Fatalf("the former name after the change: %v, want EIDENTITY", err)
	}
	if err := f.reg.CheckIssue(ctx, u, named("刘芳", 2, "")); err != nil {
		t.Fatalf("the new name: %v", err)
	}
	// A wrong name is corrected by revoking: only valid certificates hold a name.
	other := issueInput(func(in *registry.IssueInput) { in.IDNumber, in.HolderName = "34052419800101001X", "王误" })
	wrong, _, err := f.reg.Issue(ctx, u, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Revoke(ctx, u, wrong.Number, "姓名录入错误"); err != nil {
		t.Fatal(err)
	}
	other.HolderName = "王五"
	if _, _, err := f.reg.Issue(ctx, u, other); err != nil {
		t.Fatalf("reissue after revoking the misspelt name: %v", err)
	}
}
