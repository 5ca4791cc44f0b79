package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/storetest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "skillreg.db") // "data" does not exist yet
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) registry.Store {
		s, _ := openTemp(t)
		return s
	})
}

// TestPragmas checks that every pooled connection, not just the first, has
// the pragmas the package relies on.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "2"}, // FULL
		{"foreign_keys", "1"},
		{"busy_timeout", fmt.Sprint(BusyTimeout.Milliseconds())},
	}
	for _, pool := range []struct {
		name      string
		conns     int
		queryOnly string
	}{{"write", 1, "0"}, {"read", 3, "1"}} {
		db := s.write
		if pool.name == "read" {
			db = s.read
		}
		// Hold several connections at once so that the pool must open new ones.
		for i := range pool.conns {
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			check := append(tests, struct{ pragma, want string }{"query_only", pool.queryOnly})
			for _, tc := range check {
				var got string
				if err := conn.QueryRowContext(ctx, "PRAGMA "+tc.pragma).Scan(&got); err != nil {
					t.Fatalf("%s pool conn %d: PRAGMA %s: %v", pool.name, i, tc.pragma, err)
				}
				if got != tc.want {
					t.Errorf("%s pool conn %d: PRAGMA %s = %q, want %q", pool.name, i, tc.pragma, got, tc.want)
				}
			}
		}
	}
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		s, err := Open(context.Background(), path)
		if err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
			continue
		}
		if code := registry.ErrorCode(err); code != registry.EINVALID {
			t.Errorf("Open(%q): code %q, want %q", path, code, registry.EINVALID)
		}
	}
}

func TestReopenPersists(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	is := &registry.Issuer{ID: "S000011000001", Name: "一", Kind: "S", OrgCode: "0000", Province: "11", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: 3}, CreatedAt: time.Unix(1700000000, 1).UTC()}
	if err := s.CreateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	c := testCert(is.ID, 1)
	if _, err := s.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, c.Level), c); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping after Close succeeded")
	}

	for round := range 2 { // the second Open finds an up-to-date schema
		s2, err := Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", round, err)
		}
		got, err := s2.Certificate(ctx, c.Number)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("reopen %d: Certificate = %+v, %v; want %+v", round, got, err, c)
		}
		gotIs, err := s2.Issuer(ctx, is.ID)
		if err != nil || !reflect.DeepEqual(gotIs, is) {
			t.Errorf("reopen %d: Issuer = %+v, %v; want %+v", round, gotIs, err, is)
		}
		var versions int
		if err := s2.read.QueryRow(`SELECT count(*) FROM schema_version`).Scan(&versions); err != nil || versions != len(migrations) {
			t.Errorf("reopen %d: %d schema_version rows (%v), want %d", round, versions, err, len(migrations))
		}
		// The serial counter survived too.
		c2 := testCert(is.ID, 2)
		if _, err := s2.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, c2.Level), c2); err != nil {
			t.Fatal(err)
		}
		if want := registry.FormatNumber(registry.NumberPrefix(is.ID, 2024, c2.Level), 2+round); c2.Number != want {
			t.Errorf("reopen %d: next number %s, want %s", round, c2.Number, want)
		}
		s2.Close()
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if _, err := s.write.Exec(`INSERT INTO schema_version (version) VALUES (?)`, len(migrations)+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := Open(ctx, path); err == nil {
		s2.Close()
		t.Fatal("Open of a database from a newer program succeeded")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open: %v, want it to say the schema is newer", err)
	}
}

// TestTimesExact checks what the contract cannot: nanoseconds and the zero
// time survive, and every time comes back in UTC.
func TestTimesExact(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	created := time.Date(2024, 12, 31, 23, 59, 59, 999_999_999, registry.ChinaTime)
	is := &registry.Issuer{ID: "S000011000001", Scope: registry.Scope{}, CreatedAt: time.Time{}}
	if err := s.CreateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Issuer(ctx, is.ID); err != nil || !reflect.DeepEqual(got.CreatedAt, time.Time{}) {
		t.Errorf("zero CreatedAt came back as %v (%v)", got.CreatedAt, err)
	}
	c := testCert(is.ID, 1)
	c.CreatedAt = created
	if _, err := s.CreateCertificate(ctx, registry.NumberPrefix("S000011000001", 2024, 3), c); err != nil {
		t.Fatal(err)
	}
	revoked := time.Date(2025, 1, 1, 0, 0, 0, 1, time.FixedZone("X", -5*3600))
	got, err := s.RevokeCertificate(ctx, c.Number, "r", revoked)
	if err != nil {
		t.Fatal(err)
	}
	if got.CreatedAt != created.UTC() || *got.RevokedAt != revoked.UTC() {
		t.Errorf("times = %v, %v; want %v, %v", got.CreatedAt, *got.RevokedAt, created.UTC(), revoked.UTC())
	}
}

func TestBackup(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	is := &registry.Issuer{ID: "S000011000001", Name: "一", CreatedAt: time.Unix(1, 0).UTC()}
	if err := s.CreateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	c := testCert(is.ID, 1)
	if _, err := s.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, 3), c); err != nil {
		t.Fatal(err)
	}
	// Writers keep going while the backup runs; the copy must open and hold
	// at least what was committed before it started.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 2; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, 3), testCert(is.ID, i)); err != nil {
				t.Errorf("CreateCertificate during backup: %v", err)
				return
			}
		}
	})
	dest := filepath.Join(t.TempDir(), "backups", "copy.db")
	err := s.Backup(ctx, dest)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	wantCode(t, "Backup over an existing file", s.Backup(ctx, dest), registry.ECONFLICT)

	b, err := Open(ctx, dest)
	if err != nil {
		t.Fatalf("Open(backup): %v", err)
	}
	defer b.Close()
	if got, err := b.Certificate(ctx, c.Number); err != nil || !reflect.DeepEqual(got, c) {
		t.Errorf("backup Certificate = %+v, %v; want %+v", got, err, c)
	}
	if got, err := b.Issuer(ctx, is.ID); err != nil || got.Name != is.Name {
		t.Errorf("backup Issuer = %+v, %v", got, err)
	}
	// The copy is a working store: its serial counter continues gap-free
	// after the certificates it holds.
	_, total, err := b.Certificates(ctx, registry.CertificateFilter{})
	if err != nil {
		t.Fatal(err)
	}
	next := testCert(is.ID, 0)
	if _, err := b.CreateCertificate(ctx, registry.NumberPrefix(is.ID, 2024, 3), next); err != nil {
		t.Fatal(err)
	}
	if want := registry.FormatNumber(registry.NumberPrefix(is.ID, 2024, 3), total+1); next.Number != want {
		t.Errorf("backup with %d certificates issued %s, want %s", total, next.Number, want)
	}
}

// TestSerialExhaustion checks what the contract cannot reach through the
// interface: the last serial, and that the prefix then stays full.
func TestSerialExhaustion(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	is := &registry.Issuer{ID: "S000011000001"}
	if err := s.CreateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	full := registry.NumberPrefix(is.ID, 2024, 3)
	other := registry.NumberPrefix(is.ID, 2024, 4)
	if _, err := s.write.Exec(`INSERT INTO serials (prefix, last) VALUES (?, ?)`, full, registry.MaxSerial-1); err != nil {
		t.Fatal(err)
	}
	last := testCert(is.ID, 1)
	if created, err := s.CreateCertificate(ctx, full, last); err != nil || !created {
		t.Fatalf("last serial: %v, %v", created, err)
	}
	if want := full + "999999"; last.Number != want {
		t.Errorf("last number %s, want %s", last.Number, want)
	}
	for i := range 2 {
		c := testCert(is.ID, 2)
		_, err := s.CreateCertificate(ctx, full, c)
		wantCode(t, "issuing past MaxSerial", err, registry.EINVALID)
		if err != nil && !strings.Contains(err.Error(), "no serials left for prefix "+full) {
			t.Errorf("attempt %d: message %q", i, err)
		}
		if c.Number != "" {
			t.Errorf("attempt %d: a failed call set Number %q", i, c.Number)
		}
	}
	var stored int
	if err := s.read.QueryRow(`SELECT last FROM serials WHERE prefix = ?`, full).Scan(&stored); err != nil || stored != registry.MaxSerial {
		t.Errorf("serial counter = %d (%v), want it left at %d", stored, err, registry.MaxSerial)
	}
	c := testCert(is.ID, 3)
	if _, err := s.CreateCertificate(ctx, other, c); err != nil || c.Number != other+"000001" {
		t.Errorf("another prefix: %s, %v", c.Number, err)
	}
}

// TestFailedInsertKeepsSerial checks gap-freedom: a certificate that cannot
// be stored does not use up its serial.
func TestFailedInsertKeepsSerial(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "S000011000001"
	prefix := registry.NumberPrefix(id, 2024, 3)
	c := testCert(id, 1)
	_, err := s.CreateCertificate(ctx, prefix, c) // no such issuer yet
	if registry.ErrorCode(err) != registry.EINVALID || registry.ErrorField(err) != "issuer_id" {
		t.Fatalf("certificate of a missing issuer: %v, want EINVALID on issuer_id", err)
	}
	if c.Number != "" {
		t.Errorf("a failed call set Number %q", c.Number)
	}
	bad := testCert(id, 2)
	bad.Status = "lost" // refused by the CHECK constraint
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCertificate(ctx, prefix, bad); registry.ErrorCode(err) != registry.EINTERNAL {
		t.Errorf("certificate with status %q: %v, want an internal error", bad.Status, err)
	}
	c = testCert(id, 3)
	if _, err := s.CreateCertificate(ctx, prefix, c); err != nil {
		t.Fatal(err)
	}
	if want := prefix + "000001"; c.Number != want {
		t.Errorf("after failed inserts the first number is %s, want %s", c.Number, want)
	}
}

func TestNumberCollisionIsConflict(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "S000011000001"
	prefix := registry.NumberPrefix(id, 2024, 3)
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCertificate(ctx, prefix, testCert(id, 1)); err != nil {
		t.Fatal(err)
	}
	// A serial counter behind the data (e.g. restored from an older file).
	if _, err := s.write.Exec(`UPDATE serials SET last = 0 WHERE prefix = ?`, prefix); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateCertificate(ctx, prefix, testCert(id, 2))
	wantCode(t, "number collision", err, registry.ECONFLICT)
}

func TestConflictMessages(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	is := &registry.Issuer{ID: "S000011000001"}
	if err := s.CreateIssuer(ctx, is); err != nil {
		t.Fatal(err)
	}
	u := &registry.User{ID: "u1", Username: "clerk", Role: registry.RoleAdmin}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	key := &registry.SigningKey{ID: "k1", Active: true}
	if err := s.CreateSigningKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		err  error
		code string
		msg  string
	}{
		{"issuer", s.CreateIssuer(ctx, is), registry.ECONFLICT, "issuer S000011000001 already exists"},
		{"username", s.CreateUser(ctx, &registry.User{ID: "u2", Username: "clerk"}), registry.ECONFLICT, "username clerk is taken"},
		{"user id", s.CreateUser(ctx, &registry.User{ID: "u1", Username: "other"}), registry.ECONFLICT, "user id u1 already exists"},
		{"user of a missing issuer", s.CreateUser(ctx, &registry.User{ID: "u3", Username: "x", IssuerID: "S404"}), registry.EINVALID, `no issuer has the id "S404"`},
		{"signing key", s.CreateSigningKey(ctx, &registry.SigningKey{ID: "k1"}), registry.ECONFLICT, "signing key k1 already exists"},
	}
	for _, tc := range tests {
		if code := registry.ErrorCode(tc.err); code != tc.code {
			t.Errorf("%s: %v (code %q), want code %q", tc.name, tc.err, code, tc.code)
		}
		if msg := registry.ErrorMessage(tc.err); msg != tc.msg {
			t.Errorf("%s: message %q, want %q", tc.name, msg, tc.msg)
		}
	}
	// A refused active key must not have retired the current one.
	keys, err := s.SigningKeys(ctx)
	if err != nil || len(keys) != 1 || !keys[0].Active {
		t.Errorf("after a refused key: %+v, %v", keys, err)
	}
	if err := s.CreateSigningKey(ctx, &registry.SigningKey{ID: "k1", Active: true}); registry.ErrorCode(err) != registry.ECONFLICT {
		t.Errorf("duplicate active key: %v", err)
	}
	if keys, _ := s.SigningKeys(ctx); len(keys) != 1 || !keys[0].Active {
		t.Errorf("a refused active key retired the current one: %+v", keys)
	}
}

// TestConcurrentWritersAcrossStores opens the same file twice, as two
// processes would, and issues from both at once: BEGIN IMMEDIATE and the
// busy timeout must keep every call from failing with SQLITE_BUSY, and the
// serials must still be distinct and gap-free.
func TestConcurrentWritersAcrossStores(t *testing.T) {
	ctx := context.Background()
	s1, path := openTemp(t)
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	const id = "S000011000001"
	if err := s1.CreateIssuer(ctx, &registry.Issuer{ID: id}); err != nil {
		t.Fatal(err)
	}
	prefix := registry.NumberPrefix(id, 2024, 3)
	const perStore = 20
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]bool{}
	)
	for _, s := range []*Store{s1, s2} {
		for i := range perStore {
			wg.Go(func() {
				c := testCert(id, i)
				if i%4 == 0 {
					c.ExternalRef = fmt.Sprintf("shared-%d", i) // both stores race on it
				}
				if _, err := s.CreateCertificate(ctx, prefix, c); err != nil {
					t.Errorf("CreateCertificate: %v", err)
					return
				}
				mu.Lock()
				seen[c.Number] = true
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	want := 2*perStore - perStore/4 // shared refs are created once
	if len(seen) != want {
		t.Errorf("%d distinct numbers, want %d", len(seen), want)
	}
	for i := 1; i <= want; i++ {
		if !seen[registry.FormatNumber(prefix, i)] {
			t.Errorf("serial %d is missing", i)
		}
	}
}

func TestCreateCertificateNilCipher(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if err := s.CreateIssuer(ctx, &registry.Issuer{ID: "S000011000001"}); err != nil {
		t.Fatal(err)
	}
	c := testCert("S000011000001", 1)
	c.HolderIDCipher = nil
	if _, err := s.CreateCertificate(ctx, registry.NumberPrefix("S000011000001", 2024, 3), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.Certificate(ctx, c.Number)
	if err != nil || got.HolderIDCipher != nil {
		t.Errorf("nil cipher came back as %#v (%v)", got.HolderIDCipher, err)
	}
}

func TestEscapeLike(t *testing.T) {
	tests := map[string]string{
		"abc":   "abc",
		"50%":   `50\%`,
		"a_b":   `a\_b`,
		`a\b`:   `a\\b`,
		`%_\`:   `\%\_\\`,
		"张三":    "张三",
		"":      "",
		`\%`:    `\\\%`,
		"6-18":  "6-18",
		"1_%_1": `1\_\%\_1`,
	}
	for in, want := range tests {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}

func testCert(issuer string, n int) *registry.Certificate {
	return &registry.Certificate{
		IssuerID:       issuer,
		HolderName:     fmt.Sprintf("持证人%d", n),
		HolderIDMasked: "110105********002X",
		HolderIDHash:   fmt.Sprintf("hash-%d", n),
		HolderIDCipher: []byte{1, 2, 3, byte(n)},
		OccupationCode: "6-18-01-01",
		Level:          registry.Level3,
		Channel:        registry.ChannelSocial,
		IssuedOn:       "2024-05-06",
		Status:         registry.StatusValid,
		KeyID:          "k1",
		CreatedAt:      time.Date(2024, 5, 6, 7, 8, 9, n, time.UTC),
	}
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := registry.ErrorCode(err); got != code {
		t.Errorf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
}
