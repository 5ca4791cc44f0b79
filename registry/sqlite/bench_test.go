package sqlite

import (
	"context"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// BenchmarkCreateCertificate measures one durable issuance: the serial
// increment and the insert in one IMMEDIATE transaction, fsynced
// (synchronous=FULL).
func BenchmarkCreateCertificate(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	const id = "S000011000001"
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		b.Fatal(err)
	}
	prefix := registry.NumberPrefix(id, 2024, 3)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		c := testCert(id, i)
		if i%2 == 0 {
			c.ExternalRef = "ref" + c.HolderIDHash // half take the dedup lookup
		}
		if _, err := s.CreateCertificate(ctx, prefix, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCertificateLookup measures reading one certificate by number,
// the path every QR scan takes, from parallel goroutines as a web server
// would.
func BenchmarkCertificateLookup(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	const id = "S000011000001"
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		b.Fatal(err)
	}
	prefix := registry.NumberPrefix(id, 2024, 3)
	const n = 1000
	nums := make([]string, n)
	for i := range n {
		c := testCert(id, i)
		if _, err := s.CreateCertificate(ctx, prefix, c); err != nil {
			b.Fatal(err)
		}
		nums[i] = c.Number
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if _, err := s.Certificate(ctx, nums[i%n]); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
