package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/mongo"
	"github.com/skillreg/skillreg/registry/sqlite"
	"github.com/skillreg/skillreg/verify"
)

// dataFlags are the flags every command that opens the registry shares.
type dataFlags struct {
	dataDir  string
	mongoURI string
}

func (d *dataFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.dataDir, "data", envOr("SKILLREG_DATA", "./skillreg-data"), "data directory of the embedded store and keys (env SKILLREG_DATA)")
	fs.StringVar(&d.mongoURI, "mongo-uri", envOr("SKILLREG_MONGO_URI", ""), "keep the registry in MongoDB at this mongodb:// URI instead of the embedded store in --data (env SKILLREG_MONGO_URI)")
}

// env holds what an open registry needs.
type env struct {
	store registry.Store
	vault *registry.Vault
}

func (e *env) Close() error { return e.store.Close() }

// openEnv opens the registry's store, MongoDB when d.mongoURI is set and
// the SQLite file in the data directory otherwise, and its master key:
// SKILLREG_MASTER_KEY, or master.key in the data directory (made there on
// first start when create is true). With MongoDB and SKILLREG_MASTER_KEY
// the data directory is not used at all, as on a stateless server.
func openEnv(ctx context.Context, d dataFlags, create bool) (*env, error) {
	if d.mongoURI == "" || os.Getenv("SKILLREG_MASTER_KEY") == "" {
		if !create {
			if _, err := os.Stat(d.dataDir); err != nil {
				return nil, fmt.Errorf("no data directory at %s (start the server once, or pass --data)", d.dataDir)
			}
		}
		if err := os.MkdirAll(d.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory: %w", err)
		}
		// Owner-only whatever the umask, and for a directory made earlier
		// with a looser mode too: it holds the master key and the database.
		if fi, err := os.Stat(d.dataDir); err != nil {
			return nil, err
		} else if fi.Mode().Perm() != 0o700 {
			if err := os.Chmod(d.dataDir, 0o700); err != nil {
				return nil, fmt.Errorf("making the data directory owner-only: %w", err)
			}
		}
	}
	master, err := loadMasterKey(d.dataDir)
	if err != nil {
		return nil, err
	}
	vault, err := registry.NewVault(master)
	if err != nil {
		return nil, err
	}
	if d.mongoURI != "" {
		st, err := mongo.Open(ctx, d.mongoURI)
		if err != nil {
			return nil, fmt.Errorf("opening the MongoDB store: %w", err)
		}
		return &env{store: st, vault: vault}, nil
	}
	st, err := sqlite.Open(ctx, filepath.Join(d.dataDir, "skillreg.db"))
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	return &env{store: st, vault: vault}, nil
}

// loadMasterKey returns the master key from SKILLREG_MASTER_KEY (64 hex
// digits; every process of a multi-server deployment must share it) or from
// master.key in the data directory, made on first start with mode 0600.
func loadMasterKey(dir string) ([]byte, error) {
	if v := os.Getenv("SKILLREG_MASTER_KEY"); v != "" {
		k, err := hex.DecodeString(strings.TrimSpace(v))
		if err != nil || len(k) != registry.MasterKeySize {
			return nil, errors.New("SKILLREG_MASTER_KEY must be 64 hex digits (32 bytes)")
		}
		return k, nil
	}
	path := filepath.Join(dir, "master.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, registry.MasterKeySize)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return loadMasterKey(dir) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("creating master key: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(k) + "\n"); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		return k, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("reading master key: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); chmod 600 it", path, fi.Mode().Perm())
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != registry.MasterKeySize {
		return nil, fmt.Errorf("%s is not a 32-byte hex key", path)
	}
	return k, nil
}

// keys returns the signing-key store of this registry.
func (e *env) keys() verify.KeyStore { return verify.KeyStore{Store: e.store, Vault: e.vault} }
