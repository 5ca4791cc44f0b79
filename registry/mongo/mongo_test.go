package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/storetest"
)

// testURI returns SKILLREG_TEST_MONGO_URI, or skips the test: no MongoDB
// runs on a developer machine by default. .ci/run starts the FerretDB
// test server (internal/mongowire) and sets it.
func testURI(t *testing.T) string {
	t.Helper()
	uri := os.Getenv("SKILLREG_TEST_MONGO_URI")
	if uri == "" {
		t.Skip("SKILLREG_TEST_MONGO_URI is not set: no MongoDB to test against (.ci/run starts internal/mongowire and sets it)")
	}
	return uri
}

// freshURI returns the test URI with a database of its own, dropped when
// the test ends.
func freshURI(t *testing.T) string {
	t.Helper()
	base := testURI(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SKILLREG_TEST_MONGO_URI: %v", err)
	}
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	u.Path = "/skillreg_test_" + hex.EncodeToString(b)
	t.Cleanup(func() {
		client, err := mongo.Connect(options.Client().ApplyURI(base))
		if err != nil {
			t.Errorf("dropping %s: %v", u.Path, err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard only
		defer cancel()
		defer client.Disconnect(ctx)
		if err := client.Database(u.Path[1:]).Drop(ctx); err != nil {
			t.Errorf("dropping %s: %v", u.Path, err)
		}
	})
	return u.String()
}

func openTest(t *testing.T) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute) // a hang guard only
	defer cancel()
	s, err := Open(ctx, freshURI(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	testURI(t)
	storetest.Run(t, func(t *testing.T) registry.Store { return openTest(t) })
}

const (
	testIssuer = "S000011000001"
	testPrefix = "S000011000001243" // 2024, level 3
)

func seedIssuer(t *testing.T, s *Store) {
	t.Helper()
	err := s.CreateIssuer(context.Background(), &registry.Issuer{
		ID: testIssuer, Name: "机构", Kind: "S", OrgCode: "0000", Province: "11", Site: "000001",
		Scope: registry.Scope{Occupations: []string{"6-18"}, MaxLevel: registry.Level2}, CreatedAt: time.Unix(1700000000, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testCert(n int, ref string) *registry.Certificate {
	return &registry.Certificate{
		IssuerID: testIssuer, HolderName: fmt.Sprintf("持证人%d", n), HolderIDMasked: "110105********002X",
		HolderIDHash: fmt.Sprintf("hash-%d", n), HolderIDCipher: []byte{1, 2, byte(n)}, OccupationCode: "6-18-01-01",
		Level: registry.Level3, Channel: registry.ChannelSocial, IssuedOn: "2024-05-06", ExternalRef: ref,
		Status: registry.StatusValid, KeyID: "key-1", CreatedAt: time.UnixMilli(1714979289123 + int64(n)).UTC(),
	}
}

func num(serial int) string { return registry.FormatNumber(testPrefix, serial) }

// TestCrashStates writes, document by document, the states a crashed
// writer can leave behind, and checks that the next call repairs each one
// without a gap or a second certificate (see the design comment in
// certificate.go).
func TestCrashStates(t *testing.T) {
	testURI(t)
	ctx := context.Background()
	tests := []struct {
		name string
		// crash leaves the state a crashed writer would leave.
		crash func(t *testing.T, s *Store)
		// then is the next call; it checks what the call returned.
		then func(t *testing.T, s *Store)
		// want is the numbers stored afterwards, by serial: the external
		// ref each one has ("" for none).
		want []string
	}{
		{
			name: "certificate stored, serial hint not raised",
			crash: func(t *testing.T, s *Store) {
				mustInsert(t, s.certsLocal, withNumber(testCert(1, ""), 1))
			},
			then: func(t *testing.T, s *Store) {
				c := testCert(2, "")
				if created, err := s.CreateCertificate(ctx, testPrefix, c); err != nil || !created || c.Number != num(2) {
					t.Errorf("CreateCertificate = %v, %v, number %s; want true, nil, %s", created, err, c.Number, num(2))
				}
			},
			want: []string{"", ""},
		},
		{
			name: "ref claimed, nothing else",
			crash: func(t *testing.T, s *Store) {
				body := toCertDoc(testCert(1, "r1"))
				mustInsert(t, s.refs, &refDoc{Key: refKey(testIssuer, "r1"), First: num(1), Prefix: testPrefix, Cert: body})
			},
			then: func(t *testing.T, s *Store) {
				// The retry carries other data: the claimed certificate wins.
				c := testCert(9, "r1")
				created, err := s.CreateCertificate(ctx, testPrefix, c)
				if err != nil || !created || c.Number != num(1) || c.HolderName != "持证人1" {
					t.Errorf("CreateCertificate = %v, %v, %s %s; want the claimed certificate created as %s", created, err, c.Number, c.HolderName, num(1))
				}
			},
			want: []string{"r1"},
		},
		{
			name: "ref claimed, its number taken by another certificate meanwhile",
			crash: func(t *testing.T, s *Store) {
				body := toCertDoc(testCert(1, "r1"))
				mustInsert(t, s.refs, &refDoc{Key: refKey(testIssuer, "r1"), First: num(1), Prefix: testPrefix, Cert: body})
				mustInsert(t, s.certsLocal, withNumber(testCert(2, ""), 1))
			},
			then: func(t *testing.T, s *Store) {
				c := testCert(1, "r1")
				if created, err := s.CreateCertificate(ctx, testPrefix, c); err != nil || !created || c.Number != num(2) {
					t.Errorf("CreateCertificate = %v, %v, %s; want true, nil, %s", created, err, c.Number, num(2))
				}
				var r rebindDoc
				if err := s.rebinds.FindOne(ctx, bson.D{{Key: "_id", Value: rebindKey(refKey(testIssuer, "r1"), 1)}}).Decode(&r); err != nil || r.Number != num(2) {
					t.Errorf("rebind 1 = %+v, %v; want number %s", r, err, num(2))
				}
			},
			want: []string{"", "r1"},
		},
		{
			name: "ref rebound once, crashed before the insert",
			crash: func(t *testing.T, s *Store) {
				body := toCertDoc(testCert(1, "r1"))
				key := refKey(testIssuer, "r1")
				mustInsert(t, s.refs, &refDoc{Key: key, First: num(1), Prefix: testPrefix, Cert: body})
				mustInsert(t, s.certsLocal, withNumber(testCert(2, ""), 1))
				mustInsert(t, s.rebinds, &rebindDoc{ID: rebindKey(key, 1), Number: num(2)})
			},
			then: func(t *testing.T, s *Store) {
				c := testCert(1, "r1")
				if created, err := s.CreateCertificate(ctx, testPrefix, c); err != nil || !created || c.Number != num(2) {
					t.Errorf("CreateCertificate = %v, %v, %s; want true, nil, %s", created, err, c.Number, num(2))
				}
			},
			want: []string{"", "r1"},
		},
		{
			name: "certificate of a ref stored, claim not marked issued",
			crash: func(t *testing.T, s *Store) {
				body := toCertDoc(testCert(1, "r1"))
				mustInsert(t, s.refs, &refDoc{Key: refKey(testIssuer, "r1"), First: num(1), Prefix: testPrefix, Cert: body})
				mustInsert(t, s.certsLocal, withNumber(testCert(1, "r1"), 1))
			},
			then: func(t *testing.T, s *Store) {
				c := testCert(5, "r1")
				if created, err := s.CreateCertificate(ctx, testPrefix, c); err != nil || created || c.Number != num(1) {
					t.Errorf("CreateCertificate = %v, %v, %s; want false, nil, %s", created, err, c.Number, num(1))
				}
				var claim refDoc
				if err := s.refs.FindOne(ctx, bson.D{{Key: "_id", Value: refKey(testIssuer, "r1")}}).Decode(&claim); err != nil ||
					claim.Number != num(1) || claim.Cert != nil || claim.First != "" {
					t.Errorf("claim after the retry = %+v, %v; want {_id, number %s} only", claim, err, num(1))
				}
			},
			want: []string{"r1"},
		},
		{
			name: "revocation decided, certificate not updated",
			crash: func(t *testing.T, s *Store) {
				mustInsert(t, s.certsLocal, withNumber(testCert(1, ""), 1))
				mustInsert(t, s.revocations, &revocationDoc{Number: num(1), Reason: "first", RevokedAt: time.UnixMilli(1714979300000).UTC()})
			},
			then: func(t *testing.T, s *Store) {
				_, err := s.RevokeCertificate(ctx, num(1), "second", time.Now())
				if registry.ErrorCode(err) != registry.ECONFLICT {
					t.Errorf("RevokeCertificate: %v, want ECONFLICT", err)
				}
				c, err := s.Certificate(ctx, num(1))
				if err != nil || c.Status != registry.StatusRevoked || c.RevokeReason != "first" || c.RevokedAt == nil || c.RevokedAt.UnixMilli() != 1714979300000 {
					t.Errorf("after the retry the certificate is %+v, %v; want revoked with the first revocation's reason and time", c, err)
				}
			},
			want: []string{""},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := openTest(t)
			seedIssuer(t, s)
			tc.crash(t, s)
			tc.then(t, s)
			checkStored(t, s, tc.want)
		})
	}
}

func withNumber(c *registry.Certificate, serial int) *certDoc {
	d := toCertDoc(c)
	d.Number = num(serial)
	return d
}

func mustInsert(t *testing.T, coll *mongo.Collection, doc any) {
	t.Helper()
	if _, err := coll.InsertOne(context.Background(), doc); err != nil {
		t.Fatalf("insert into %s: %v", coll.Name(), err)
	}
}

// checkStored checks that the stored certificates of testPrefix are
// serials 1..len(refs) exactly, with the given external refs.
func checkStored(t *testing.T, s *Store, refs []string) {
	t.Helper()
	list, err := s.CertificatesAfter(context.Background(), "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range list {
		if c.Number != num(i+1) {
			t.Errorf("stored certificate %d is %s, want %s (serials must be 1..N)", i, c.Number, num(i+1))
		}
		got = append(got, c.ExternalRef)
	}
	if !slices.Equal(got, refs) {
		t.Errorf("stored certificates have refs %q, want %q", got, refs)
	}
}

// TestConcurrentStores issues through two Stores, each with its own
// client and connection pool as two server processes would have, with
// repeated and fresh external refs mixed with none: the serials must be
// 1..N, each ref must have exactly one certificate, every caller of a ref
// must get that one, and exactly one of them must report created.
func TestConcurrentStores(t *testing.T) {
	uri := freshURI(t)
	ctx := context.Background()
	var stores []*Store
	for range 2 {
		s, err := Open(ctx, uri)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	seedIssuer(t, stores[0])

	const callers = 24
	type result struct {
		number, ref string
		created     bool
		err         error
	}
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]result, callers)
	)
	for i := range callers {
		wg.Go(func() {
			ref := ""
			if i%3 != 0 {
				ref = fmt.Sprintf("ref-%d", i%5) // five refs, each asked for several times
			}
			c := testCert(i, ref)
			<-start
			created, err := stores[i%2].CreateCertificate(ctx, testPrefix, c)
			results[i] = result{c.Number, ref, created, err}
		})
	}
	close(start)
	wg.Wait()

	byRef := map[string]string{}
	createdPerRef := map[string]int{}
	distinct := map[string]bool{}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("caller %d: %v", i, r.err)
		}
		distinct[r.number] = true
		if r.ref == "" {
			if !r.created {
				t.Errorf("caller %d without ref: created = false", i)
			}
			continue
		}
		if prev, ok := byRef[r.ref]; ok && prev != r.number {
			t.Errorf("ref %s got numbers %s and %s", r.ref, prev, r.number)
		}
		byRef[r.ref] = r.number
		if r.created {
			createdPerRef[r.ref]++
		}
	}
	for ref := range byRef {
		if createdPerRef[ref] != 1 {
			t.Errorf("ref %s: %d callers report created, want exactly 1", ref, createdPerRef[ref])
		}
	}
	list, err := stores[1].CertificatesAfter(ctx, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(distinct) {
		t.Errorf("%d certificates stored, callers saw %d distinct numbers", len(list), len(distinct))
	}
	for i, c := range list {
		if c.Number != num(i+1) {
			t.Fatalf("stored numbers are not 1..N: position %d holds %s", i, c.Number)
		}
	}
}

func TestOpen(t *testing.T) {
	uri := testURI(t)
	ctx := context.Background()
	if _, err := Open(ctx, "mongodb://user:secret@[::1"); registry.ErrorCode(err) != registry.EINVALID || strings.Contains(err.Error(), "secret") {
		t.Errorf("Open of a malformed URI: %v; want EINVALID without the password", err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	s, err := Open(ctx, u.String())
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	defer s.Close()
	if s.Database() != DefaultDatabase {
		t.Errorf("database without a path in the URI = %q, want %q", s.Database(), DefaultDatabase)
	}
	// Opening again finds the indexes made: a no-op, not an error; and so
	// is opening a new database from several servers at the same moment.
	fresh := freshURI(t)
	for i := range 2 {
		s, err := Open(ctx, fresh)
		if err != nil {
			t.Fatalf("Open #%d of one database: %v", i+1, err)
		}
		s.Close()
	}
	fresh = freshURI(t)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			s, err := Open(ctx, fresh)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Open #%d of a new database: %v", i+1, err)
		}
	}
}
