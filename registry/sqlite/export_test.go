package sqlite

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// TestExport checks what `skillreg migrate` reads: counts per kind, all
// users, the serial counters, and a keyset walk over the certificates that
// visits each one once, in number order, whatever the batch size.
func TestExport(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const a, b = "S000011000001", "Y123444000002"
	for _, id := range []string{b, a} {
		if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	users := []*registry.User{
		{ID: "u2", Username: "clerk", PasswordHash: "h2", Role: registry.RoleIssuer, IssuerID: a},
		{ID: "u1", Username: "admin", PasswordHash: "h1", Role: registry.RoleAdmin},
	}
	for _, u := range users {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	var numbers []string
	for i := range 7 {
		c := testCert([]string{a, b}[i%2], i)
		if i%3 == 0 {
			c.IssuerID = a
			c.ExternalRef = c.HolderIDHash
		}
		if _, err := s.CreateCertificate(ctx, registry.NumberPrefix(c.IssuerID, 2024, c.Level), c); err != nil {
			t.Fatal(err)
		}
		numbers = append(numbers, c.Number)
	}

	counts, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"issuers": 2, "users": 2, "signing_keys": 0, "serials": 2, "certificates": 7, "external_refs": 3, "api_keys": 0, "plans": 0, "training_records": 0}
	if !maps.Equal(counts, want) {
		t.Errorf("Counts = %v, want %v", counts, want)
	}
	got, err := s.Users(ctx)
	if err != nil || len(got) != 2 || got[0].ID != "u1" || !reflect.DeepEqual(got[1], users[0]) {
		t.Errorf("Users = %+v, %v; want u1, u2 in ID order, whole", got, err)
	}
	serials, err := s.Serials(ctx)
	if wantS := map[string]int{registry.NumberPrefix(a, 2024, 3): 5, registry.NumberPrefix(b, 2024, 3): 2}; err != nil || !maps.Equal(serials, wantS) {
		t.Errorf("Serials = %v, %v; want %v", serials, err, wantS)
	}

	for _, batch := range []int{1, 3, 7, 100} {
		var walked []string
		for after := ""; ; {
			list, err := s.CertificatesAfter(ctx, after, batch)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 0 {
				break
			}
			if len(list) > batch {
				t.Fatalf("batch %d: got %d certificates", batch, len(list))
			}
			for _, c := range list {
				walked = append(walked, c.Number)
			}
			after = list[len(list)-1].Number
		}
		sorted := append([]string(nil), numbers...)
		slices.Sort(sorted)
		if !reflect.DeepEqual(walked, sorted) {
			t.Errorf("batch %d: walked %v, want every number once in order %v", batch, walked, sorted)
		}
	}
}
