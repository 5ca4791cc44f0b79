package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/skillreg/skillreg/registry"
)

var _ registry.CertificateChunkCreator = (*Store)(nil)

// Statements that bracket each certificate of a chunk, so that a failed
// one takes back only its own writes (its serial included).
const (
	savepointCert = `SAVEPOINT cert`
	releaseCert   = `RELEASE cert`
	rollbackCert  = `ROLLBACK TO cert`
)

// CreateCertificateChunk runs fn in one BEGIN IMMEDIATE transaction on the
// write connection and commits it (synchronous=FULL: on disk before it
// returns) when fn returns nil. Every other writer, of this process or
// another, waits for the write lock until then.
func (s *Store) CreateCertificateChunk(ctx context.Context, fn func(registry.CertificateChunk) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return internal(err, "begin issuing a chunk")
	}
	defer rollback(tx)
	if err := fn(&chunkTx{s: s, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal(err, "commit a chunk of certificates")
	}
	return nil
}

// chunkTx is the transaction CreateCertificateChunk hands to its fn.
type chunkTx struct {
	s  *Store
	tx *sql.Tx
}

// CertificatesByHolders reads the holders' certificates in the
// transaction, newest first, as Store.CertificatesByHolders does.
func (t *chunkTx) CertificatesByHolders(ctx context.Context, holderHashes []string) (map[string][]*registry.Certificate, error) {
	return certificatesByHolders(ctx, t.tx, holderHashes)
}

// CreateCertificateAudited is Store.CreateCertificateAudited inside the
// chunk's transaction, between a savepoint and its release: on an error
// the savepoint is rolled back, so the certificate's serial, row and audit
// entry are all undone and the chunk's earlier certificates stay.
func (t *chunkTx) CreateCertificateAudited(ctx context.Context, prefix string, c *registry.Certificate, e *registry.AuditEntry) (bool, error) {
	s, tx := t.s, t.tx
	if _, err := s.txExec(ctx, tx, savepointCert); err != nil {
		return false, internal(err, "savepoint before a certificate of %s", prefix)
	}
	number, created, err := s.createCertificateTx(ctx, tx, prefix, c, e)
	if err != nil {
		if _, rerr := s.txExec(ctx, tx, rollbackCert); rerr != nil {
			return false, internal(rerr, "roll back a certificate of %s", prefix)
		}
		if _, rerr := s.txExec(ctx, tx, releaseCert); rerr != nil {
			return false, internal(rerr, "release a certificate of %s", prefix)
		}
		if !errors.Is(err, errRefTaken) {
			return false, err
		}
		// As in CreateCertificateAudited: the external_ref is stored
		// already; answer with that certificate.
		stored, err := certificateByRef(s.txQueryRow(ctx, tx, selectByRef, c.IssuerID, c.ExternalRef), c.IssuerID, c.ExternalRef)
		if err != nil {
			return false, err
		}
		*c = *stored
		return false, nil
	}
	if _, err := s.txExec(ctx, tx, releaseCert); err != nil {
		return false, internal(err, "release certificate %s", number)
	}
	if created {
		c.Number = number
	}
	return created, nil
}
