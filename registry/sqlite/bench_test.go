package sqlite

import (
	"context"
	"database/sql"
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
// would, over 1,000 certificates:
//
//   - whole: Certificate, every column;
//   - verification: VerificationRecord, the read verification makes (one
//     text value, on the store's own driver connections, rawReader);
//   - verification_database_sql: the same query through database/sql's
//     read pool, not cancelled with the context, as VerificationRecord
//     read it before;
//   - eleven_columns: the same fields as eleven columns, as
//     VerificationRecord read them before;
//   - primary_key: SELECT 1 by number, the floor of a read by primary key.
func BenchmarkCertificateLookup(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background()) // cancellable, as a request's is
	defer cancel()
	const n = 1000
	s, _, nums := storeWithCertificates(b, n)
	const elevenColumns = `SELECT issuer_id, holder_name, occupation_code, level, issued_on, status,
	revoked_at, revoke_reason, key_id, status_index, token_mac FROM certificates WHERE number = ?`
	for _, r := range []struct {
		name string
		read func(number string) error
	}{
		{"whole", func(number string) error { _, err := s.Certificate(ctx, number); return err }},
		{"verification", func(number string) error { _, err := s.VerificationRecord(ctx, number); return err }},
		{"verification_database_sql", func(number string) error {
			var v string
			if err := s.readRow(context.WithoutCancel(ctx), verificationQuery, number).Scan(&v); err != nil {
				return err
			}
			_, err := splitVerification(v)
			return err
		}},
		{"eleven_columns", func(number string) error {
			var (
				issuer, holder, occ, on, status, reason, kid string
				level                                        int64
				revokedAt                                    sql.NullString
				index                                        sql.NullInt64
				mac                                          []byte
			)
			return s.readRow(ctx, elevenColumns, number).Scan(&issuer, &holder, &occ, &level, &on, &status, &revokedAt, &reason, &kid, &index, &mac)
		}},
		{"primary_key", func(number string) error {
			var one int
			return s.readRow(ctx, `SELECT 1 FROM certificates WHERE number = ?`, number).Scan(&one)
		}},
	} {
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					i++
					if err := r.read(nums[i%n]); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
