package mongo

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
	"github.com/skillreg/skillreg/verify"
)

// TestStatsThroughRegistry runs the counting rules through Registry.Issue
// and Revoke on the MongoDB store: a person climbing, a revoked top
// certificate, a tie, then damage that stats check finds and repairs.
func TestStatsThroughRegistry(t *testing.T) {
	testURI(t)
	ctx := context.Background()
	s := openTest(t)
	vault, err := registry.NewVault(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ks := verify.KeyStore{Store: s, Vault: vault}
	if _, err := ks.Ensure(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: s, Tokens: verify.NewTokens(ks.Source()), Vault: vault, Logger: slog.New(slog.DiscardHandler)})
	admin := &registry.User{ID: "a", Username: "admin", Role: registry.RoleAdmin}
	issuer := func(prov, org string) *registry.User {
		is, err := reg.CreateIssuer(ctx, admin, registry.IssuerInput{Name: "中心" + prov, Kind: "S", OrgCode: org, Province: prov, Site: "000001",
			Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return &registry.User{ID: "u" + prov, Username: "u" + prov, Role: registry.RoleIssuer, IssuerID: is.ID}
	}
	bj, gd := issuer("11", "0001"), issuer("44", "0002")
	issue := func(u *registry.User, id string, level registry.Level, on string) *registry.Certificate {
		c, _, err := reg.Issue(ctx, u, registry.IssueInput{HolderName: "测试人", IDNumber: id, OccupationCode: "6-18-01-01",
			Level: level, Channel: registry.ChannelSocial, IssuedOn: on})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	figures := func(prov string) string {
		ts, err := reg.TierStats(ctx, admin, registry.StatsQuery{Province: prov})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("w%d c%d r%d %d/%d/%d/%d/%d", ts.SkilledWorkers, ts.Certificates, ts.RevokedCertificates,
			ts.ByLevel[1], ts.ByLevel[2], ts.ByLevel[3], ts.ByLevel[4], ts.ByLevel[5])
	}
	a, b := "11010519491231002X", "440524198001010013"
	issue(bj, a, 4, "2010-01-01")
	top := issue(gd, a, 2, "2012-01-01")
	issue(bj, b, 3, "2015-01-01")
	issue(gd, b, 3, "2016-01-01") // tie: the later one, in 44, decides
	if got := figures(""); got != "w2 c4 r0 0/1/1/0/0" {
		t.Fatalf("national: %s", got)
	}
	if got := figures("44"); got != "w2 c2 r0 0/1/1/0/0" {
		t.Fatalf("44: %s", got)
	}
	if _, err := reg.Revoke(ctx, gd, top.Number, "错发"); err != nil {
		t.Fatal(err)
	}
	if got := figures(""); got != "w2 c4 r1 0/0/1/1/0" {
		t.Fatalf("after revoking the top one: %s", got)
	}
	if got := figures("11"); got != "w1 c2 r0 0/0/0/1/0" {
		t.Fatalf("11 after revoking: %s", got)
	}
	res, err := reg.CheckStats(ctx, stats.CheckOptions{})
	if err != nil || res.Drift() || res.Busy {
		t.Fatalf("check: %v %+v", err, res)
	}
	// Damage a counter; the check finds it and the repair fixes it.
	cell := stats.Cell{Kind: stats.CellWorkers, Province: "44", Category: "6", Channel: "social", Level: 3, Year: stats.CellAllYears}.ID()
	if err := s.ApplyStatsDeltas(ctx, "damage", []stats.Delta{{Cell: cell, N: -1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseStatsMarker(ctx, "damage"); err != nil {
		t.Fatal(err)
	}
	res, err = reg.CheckStats(ctx, stats.CheckOptions{Repair: true})
	if err != nil || len(res.CellDiffs) != 1 || !res.Repaired {
		t.Fatalf("repair: %v %+v", err, res)
	}
	res, err = reg.CheckStats(ctx, stats.CheckOptions{})
	if err != nil || res.Drift() {
		t.Fatalf("after repair: %v %+v", err, res)
	}
}
