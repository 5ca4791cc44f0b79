package main

// Helpers of the tests that need MongoDB (multiprocess_test.go,
// migrate_test.go). They skip without SKILLREG_TEST_MONGO_URI; .ci/run
// starts the FerretDB test server (internal/mongowire) and sets it.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	mongodriver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// freshMongoURI returns SKILLREG_TEST_MONGO_URI with a database of the
// test's own, dropped when the test ends, or skips the test.
func freshMongoURI(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SKILLREG_TEST_MONGO_URI")
	if base == "" {
		t.Skip("SKILLREG_TEST_MONGO_URI is not set: no MongoDB to test against (.ci/run starts internal/mongowire and sets it)")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("SKILLREG_TEST_MONGO_URI: %v", err)
	}
	u.Path = "/skillreg_cmd_" + randomHex(t, 6)
	db := u.Path[1:]
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		client, err := mongodriver.Connect(options.Client().ApplyURI(base))
		if err != nil {
			t.Errorf("dropping %s: %v", db, err)
			return
		}
		defer client.Disconnect(ctx)
		if err := client.Database(db).Drop(ctx); err != nil {
			t.Errorf("dropping %s: %v", db, err)
		}
	})
	return u.String()
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
