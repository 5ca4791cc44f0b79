package registry

import (
	"context"
	"reflect"
)

// Capabilities a store may have beyond Store. Commands that need one
// (migrate, backup, demo, audit coverage) ask for it by these names, and
// each backend asserts at compile time which ones it has, so that a new
// backend learns from this file what it must provide.

// Exporter reads a store whole, in stable order, for copies and checks.
type Exporter interface {
	// Counts returns the number of records of each kind (issuers, users,
	// signing_keys, certificates, training_records, api_keys, plans, ...),
	// under the same names in every store.
	Counts(ctx context.Context) (map[string]int64, error)
	// Users returns every user, ordered by ID.
	Users(ctx context.Context) ([]*User, error)
	// Serials returns the last serial used under each number prefix.
	Serials(ctx context.Context) (map[string]int, error)
	// CertificatesAfter returns up to limit certificates whose numbers
	// sort after the given one, in number order.
	CertificatesAfter(ctx context.Context, after string, limit int) ([]*Certificate, error)
	// TrainingRecordsAfter returns up to limit training records whose IDs
	// sort after the given one, in ID order.
	TrainingRecordsAfter(ctx context.Context, after string, limit int) ([]*TrainingRecord, error)
}

// RevokedSince reports whether offered is stored revoked since: stored is
// valid, offered is revoked, and they are otherwise the same. Revocation
// is the one change a certificate undergoes, so a copy taken before it
// (an earlier `skillreg migrate` run, while the old server still served)
// is brought up to date by applying it, not reported as a conflict.
func RevokedSince(stored, offered *Certificate) bool {
	if stored.Status != StatusValid || offered.Status != StatusRevoked {
		return false
	}
	s := *stored
	s.Status, s.RevokedAt, s.RevokeReason = offered.Status, offered.RevokedAt, offered.RevokeReason
	return reflect.DeepEqual(&s, offered)
}

// CertificateImporter is what a store needs for bulk loads: certificates
// written with the numbers they carry, in large batches, and serial
// counters raised afterwards. Both stores have it (for `skillreg migrate`
// into either, and for `skillreg demo` on SQLite).
type CertificateImporter interface {
	// ImportCertificates stores the certificates whose numbers are not
	// stored yet and returns how many it stored. A stored one that the
	// offered one shows revoked since (RevokedSince) is revoked; one that
	// differs otherwise is ECONFLICT, as is a status index or external_ref
	// another certificate holds. Pass them in number order.
	ImportCertificates(ctx context.Context, list []*Certificate) (int, error)
	// ImportSerials raises the serial counter of each prefix to at least
	// the given value (never lowers one); call it after the certificates
	// it covers are stored.
	ImportSerials(ctx context.Context, serials map[string]int) error
	// Serials returns the last serial used under each number prefix.
	Serials(ctx context.Context) (map[string]int, error)
}

// Restorer writes records copied from another store as they are (IDs,
// numbers, hashes and audit links kept), skipping those already present,
// so that an interrupted copy can be run again. Every Import method
// returns how many records it stored, and ECONFLICT if a record stored
// under the same key differs from the offered one (for audit entries and
// checkpoints: a different hash or signature), or if another unique key
// (a username) is taken.
type Restorer interface {
	CertificateImporter
	ImportIssuers(ctx context.Context, list []*Issuer) (int, error)
	ImportUsers(ctx context.Context, list []*User) (int, error)
	// ImportSigningKeys also makes the offered active key the active one.
	ImportSigningKeys(ctx context.Context, keys []*SigningKey) (int, error)
	ImportAuditEntries(ctx context.Context, list []*AuditEntry) (int, error)
	ImportAuditCheckpoints(ctx context.Context, list []*AuditCheckpoint) (int, error)
}

// AuditedCertificateCreator stores a certificate and appends its audit
// entry in one atomic write, so that no crash can leave an issued
// certificate without its entry. The SQLite store has it; where a store
// lacks it, the registry appends the entry after the certificate.
type AuditedCertificateCreator interface {
	// CreateCertificateAudited is CreateCertificate that, when it creates
	// the certificate, also appends e (as AppendAudit would) in the same
	// transaction, with e.Attrs["number"] set to the certificate's number.
	// When it creates nothing, e is not appended.
	CreateCertificateAudited(ctx context.Context, prefix string, c *Certificate, e *AuditEntry) (created bool, err error)
}

// CertificateChunkCreator stores several certificates in one transaction:
// an import's chunk then costs one durable commit instead of one per
// certificate. The SQLite store has it; elsewhere the registry stores the
// chunk's certificates one by one.
type CertificateChunkCreator interface {
	// CreateCertificateChunk begins a write transaction, runs fn with it
	// and commits when fn returns nil. If fn returns an error, or the
	// commit fails, nothing fn wrote is stored and the error is returned.
	// No other writer commits while fn runs.
	CreateCertificateChunk(ctx context.Context, fn func(CertificateChunk) error) error
}

// CertificateChunk is the transaction of CreateCertificateChunk.
type CertificateChunk interface {
	// CertificatesByHolders is CertificateStore's, read inside the
	// transaction: it includes the certificates this transaction created.
	CertificatesByHolders(ctx context.Context, holderHashes []string) (map[string][]*Certificate, error)
	// CreateCertificateAudited is AuditedCertificateCreator's inside the
	// transaction. When it returns an error, nothing of this certificate
	// or its entry is kept (not its serial either), and the certificates
	// created before it in the transaction stay.
	CreateCertificateAudited(ctx context.Context, prefix string, c *Certificate, e *AuditEntry) (created bool, err error)
}

// FileBackuper copies a live store to a file that can be opened as a store
// of the same kind.
type FileBackuper interface {
	Backup(ctx context.Context, dest string) error
}

// WriteChecker tells whether a store can write now. Readiness uses it
// after a write failed with EUNAVAILABLE: the server stays not ready until
// a probe write passes again, so that it recovers by itself once space or
// write access returns.
type WriteChecker interface {
	// CheckWrite makes a small write (one that needs fresh space where
	// the backend can arrange it) and leaves nothing that grows.
	// EUNAVAILABLE if the storage refuses it.
	CheckWrite(ctx context.Context) error
}

// VerificationReader is implemented by a store that can read the part of
// a certificate's record that a token verification needs more cheaply
// than CertificateStore.Certificate reads all of it. Registry.Verify uses
// it when the store has it, and Certificate otherwise.
type VerificationReader interface {
	// VerificationRecord returns the certificate numbered number with
	// Number, IssuerID, HolderName, OccupationCode, Level, IssuedOn,
	// Status, RevokedAt, RevokeReason, KeyID, StatusIndex and TokenMAC
	// exactly as Certificate returns them, and every other field zero.
	// ENOTFOUND if there is none.
	VerificationRecord(ctx context.Context, number string) (*Certificate, error)
}
