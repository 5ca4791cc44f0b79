package registry_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// BenchmarkStatsRead reads the statistics from stores of 10,000 and of
// 1,000,000 demo certificates (SQLite, made by registry.LoadDemo). The
// read costs O(counters), not O(certificates), so the two should be
// close. The 1,000,000 store takes about a quarter of an hour to build
// and is skipped unless SKILLREG_BENCH_1M=1:
//
//	SKILLREG_BENCH_1M=1 go test ./registry -run '^$' -bench BenchmarkStatsRead -timeout 60m
//
// SKILLREG_BENCH_1M_DIR=DIR reads a store that `skillreg demo
// --certificates 1000000 --data DIR` made instead of building one.
func BenchmarkStatsRead(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("certs=%d", n), func(b *testing.B) {
			if n > 10_000 && os.Getenv("SKILLREG_BENCH_1M") != "1" {
				b.Skip("set SKILLREG_BENCH_1M=1 to build and read a store of 1,000,000 certificates")
			}
			var reg *registry.Registry
			if dir := os.Getenv("SKILLREG_BENCH_1M_DIR"); n > 10_000 && dir != "" {
				st, err := sqlite.Open(context.Background(), filepath.Join(dir, "skillreg.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { st.Close() })
				reg = registry.New(registry.Config{Store: st, Logger: slog.New(slog.DiscardHandler)})
			} else {
				reg = benchStatsRegistry(b, n)
			}
			ctx := context.Background()
			admin := &registry.User{ID: "admin", Username: "admin", Role: registry.RoleAdmin}
			reads := []struct {
				name string
				read func() error
			}{
				{"TierStats/national", func() error { _, err := reg.TierStats(ctx, admin, registry.StatsQuery{}); return err }},
				{"TierStats/filtered", func() error {
					_, err := reg.TierStats(ctx, admin, registry.StatsQuery{Province: "44", Occupation: "6", Channel: registry.ChannelSocial})
					return err
				}},
				{"ProvinceStats", func() error { _, err := reg.ProvinceStats(ctx, admin, registry.StatsQuery{}); return err }},
				{"TrendStats", func() error { _, err := reg.TrendStats(ctx, admin, registry.StatsQuery{}); return err }},
			}
			for _, rd := range reads {
				b.Run(rd.name, func(b *testing.B) {
					for b.Loop() {
						if err := rd.read(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// benchStatsRegistry builds a SQLite store of n demo certificates in a
// temporary directory and returns a registry over it.
func benchStatsRegistry(b *testing.B, n int) *registry.Registry {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "r.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	vault, err := registry.NewVault(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	reg := registry.New(registry.Config{Store: st, Vault: vault, Clock: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler)})
	admin := &registry.User{ID: "admin", Username: "admin", Role: registry.RoleAdmin}
	start := time.Now()
	res, err := reg.LoadDemo(ctx, admin, registry.DemoOptions{Certificates: n, Seed: 7, KeyID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d certificates of %d people in %s", res.Certificates, res.People, time.Since(start).Round(time.Millisecond))
	return reg
}

// BenchmarkStatsIssue is Registry.Issue with its statistics upkeep (mark,
// op, apply, holder, release, mark done), each issuance a new person at a
// level and year that vary; compare with BenchmarkCreateCertificate in
// registry/sqlite (the certificate write alone).
func BenchmarkStatsIssue(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "r.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	vault, err := registry.NewVault(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 11, 1, 2, 0, 0, 0, time.UTC)
	ks := verify.KeyStore{Store: st, Vault: vault}
	if _, err := ks.Ensure(ctx, now); err != nil {
		b.Fatal(err)
	}
	reg := registry.New(registry.Config{Store: st, Tokens: verify.NewTokens(ks.Source()), Vault: vault,
		Clock: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	admin := &registry.User{ID: "admin", Username: "admin", Role: registry.RoleAdmin}
	is, err := reg.CreateIssuer(ctx, admin, registry.IssuerInput{Name: "中心", Kind: "S", OrgCode: "0001", Province: "44", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 1}})
	if err != nil {
		b.Fatal(err)
	}
	u := &registry.User{ID: "u", Username: "u", Role: registry.RoleIssuer, IssuerID: is.ID}
	i := 0
	for b.Loop() {
		i++
		if _, _, err := reg.Issue(ctx, u, registry.IssueInput{HolderName: "测试人", IDNumber: benchIDNumber(i), OccupationCode: "6-18-01-01",
			Level: registry.Level(1 + i%5), Channel: registry.ChannelSocial, IssuedOn: fmt.Sprintf("20%02d-03-01", 5+i%20)}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchIDNumber returns a distinct valid ID number for every i >= 0.
func benchIDNumber(i int) string {
	birth := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i/1000)
	base := fmt.Sprintf("440524%s%03d", birth.Format("20060102"), i%1000)
	return base + string(checkChar(base))
}
