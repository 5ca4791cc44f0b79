package registry

import (
	"context"
	"time"

	"github.com/skillreg/skillreg/registry/stats"
)

// Roles a user can have.
const (
	RoleAdmin    = "admin"
	RoleIssuer   = "issuer"   // belongs to one issuing organisation
	RoleOfficial = "official" // national (Province == "") or one province
)

// Certificate statuses as stored.
const (
	StatusValid   = "valid"
	StatusRevoked = "revoked"
)

// Scope is what an issuing organisation may certify: occupation code
// prefixes ("6-18", "4-04-05") and the highest level (1 is the highest, so
// MaxLevel 2 allows levels 2 to 5). Its JSON keys are part of what an
// admin sends (IssuerInput) and of the signed trust bundle.
type Scope struct {
	Occupations []string `json:"occupations"`
	MaxLevel    Level    `json:"max_level"`
}

// Issuer is an issuing organisation (评价机构 or employer). Its ID is the
// first 13 characters of every certificate number it issues: kind, 4-digit
// organisation code, 2-digit province and 6-digit site.
type Issuer struct {
	ID        string
	Name      string
	Kind      string // "S" social organisation, "Y" employer
	OrgCode   string
	Province  string
	Site      string
	Scope     Scope
	CreatedAt time.Time
}

// User is a person who logs in. Usernames are unique regardless of case
// (UsernameKey); a disabled user cannot log in. TokenVersion is embedded in
// every login token and session made for the user: the store raises it
// whenever the password changes or the account is disabled, so that every
// token made before stops working on its next request, on every server.
type User struct {
	ID           string
	Username     string
	PasswordHash string `json:"-"` // never encoded, should a User reach an encoder by mistake
	Role         string
	IssuerID     string
	Province     string
	Disabled     bool
	TokenVersion int64 `json:"-"`
	CreatedAt    time.Time
}

// Certificate is a skill certificate as the registry stores it. The holder's
// ID number is kept only encrypted (HolderIDCipher) and as a keyed hash
// (HolderIDHash) that finds all certificates of one person.
type Certificate struct {
	Number         string     `json:"number"`
	IssuerID       string     `json:"issuer_id"`
	HolderName     string     `json:"holder_name"`
	HolderIDMasked string     `json:"holder_id_masked"`
	HolderIDHash   string     `json:"-"`
	HolderIDCipher []byte     `json:"-"`
	OccupationCode string     `json:"occupation_code"`
	Level          Level      `json:"level"`
	Channel        Channel    `json:"channel"`
	IssuedOn       string     `json:"issued_on"` // YYYY-MM-DD
	ExternalRef    string     `json:"external_ref,omitempty"`
	Status         string     `json:"status"`
	RevokedAt      *time.Time `json:"revoked_at,omitempty"`
	RevokeReason   string     `json:"revoke_reason,omitempty"`
	KeyID          string     `json:"key_id"` // the signing key of its token
	CreatedAt      time.Time  `json:"created_at"`
	// StatusIndex is the certificate's bit in the revocation status list
	// (statuslist.go): random, unique, from 1; 0 means none yet.
	StatusIndex int `json:"status_index,omitempty"`

	// TrainingRecordID names the training record the certificate came
	// from, if any.
	TrainingRecordID string `json:"training_record_id,omitempty"`

	// TokenMAC is the keyed MAC (Vault.TokenMAC) of the token the registry
	// issued for this certificate, so that online verification can tell
	// that token without checking its signature (verification.go). Empty
	// for certificates stored before token MACs, or whose MAC write was
	// lost; those verify by signature.
	TokenMAC []byte `json:"-"`

	// token is the signed token made at issue, so that the caller of Issue
	// gets it without signing again; never stored.
	token string
}

// SigningKey is a certificate-signing key as stored: the private key is
// sealed with the registry's master key. Exactly one key is active at a
// time; retired keys stay so that older certificates keep verifying.
type SigningKey struct {
	ID        string    // kid
	Algorithm string    // "EdDSA"
	Public    []byte    // raw Ed25519 public key
	Sealed    []byte    // private key sealed with the master key
	Active    bool      // signs new certificates
	CreatedAt time.Time // when it was made
}

// CertificateFilter selects certificates for a listing.
type CertificateFilter struct {
	IssuerID   string // "" for all issuers (admin)
	Status     string
	Level      Level
	Occupation string // code prefix
	Query      string // number prefix or holder name substring
	Page       int    // 1-based
	PerPage    int
}

// CertificateStore keeps certificates and their revocation status-list indexes.
type CertificateStore interface {
	// CreateCertificate stores c with the next serial of prefix, which it
	// also writes into c.Number: serials start at 1 and have no gaps. A
	// c.StatusIndex (> 0) that another certificate has is ECONFLICT on
	// field "status_index", and nothing is written. If
	// c.ExternalRef is not empty and the issuer already has a certificate
	// with it, nothing is written, c is overwritten with the stored one and
	// created is false. EINVALID if the prefix has no serials left.
	CreateCertificate(ctx context.Context, prefix string, c *Certificate) (created bool, err error)

	// Certificate returns one certificate. ENOTFOUND if there is none.
	Certificate(ctx context.Context, number string) (*Certificate, error)

	// Certificates lists certificates matching f, newest first, with the
	// total number of matches.
	Certificates(ctx context.Context, f CertificateFilter) ([]*Certificate, int, error)

	// CertificatesByHolder returns every certificate of the holder whose
	// ID-number hash is given, newest first.
	CertificatesByHolder(ctx context.Context, holderHash string) ([]*Certificate, error)

	// CertificatesByHolders returns, for each of the given ID-number
	// hashes, every certificate of that holder, newest first, as
	// CertificatesByHolder would, read at once; a holder with no
	// certificate has no entry in the map.
	CertificatesByHolders(ctx context.Context, holderHashes []string) (map[string][]*Certificate, error)

	// RevokeCertificate marks a valid certificate revoked. ENOTFOUND if
	// there is none, ECONFLICT if it is already revoked.
	RevokeCertificate(ctx context.Context, number, reason string, at time.Time) (*Certificate, error)

	// SetStatusIndex gives certificate number, which has no status index
	// yet, the index idx (> 0). ENOTFOUND if there is no such certificate;
	// ECONFLICT on field "status_index" if another certificate has idx;
	// ECONFLICT without a field if the certificate already has an index.
	SetStatusIndex(ctx context.Context, number string, idx int) error

	// SetTokenMACs stores the token MAC of each certificate named in macs
	// (number -> MAC), replacing any it has; numbers of no certificate are
	// skipped. The MACs can be made again from the certificates, so a
	// backend may commit them without waiting for the disk.
	SetTokenMACs(ctx context.Context, macs map[string][]byte) error

	// CertificatesWithoutStatusIndex returns the numbers of up to limit
	// certificates that have no status index.
	CertificatesWithoutStatusIndex(ctx context.Context, limit int) ([]string, error)

	// MaxStatusIndex returns the highest status index in use, 0 if none.
	MaxStatusIndex(ctx context.Context) (int, error)

	// RevokedStatusIndexes returns the status indexes of the revoked
	// certificates that have one, in any order.
	RevokedStatusIndexes(ctx context.Context) ([]int, error)
}

// IssuerStore keeps the issuing organisations.
type IssuerStore interface {
	// CreateIssuer stores a new issuer. ECONFLICT if its ID exists.
	CreateIssuer(ctx context.Context, is *Issuer) error

	// Issuer returns one issuer. ENOTFOUND if there is none.
	Issuer(ctx context.Context, id string) (*Issuer, error)

	// Issuers lists all issuers ordered by ID.
	Issuers(ctx context.Context) ([]*Issuer, error)
}

// UserStore keeps the staff users who log in. A user is found by name
// through UsernameKey, so that Admin and admin are one name.
type UserStore interface {
	// CreateUser stores a new user. ECONFLICT if the username is taken,
	// whatever its case.
	CreateUser(ctx context.Context, u *User) error

	// UserByUsername returns the user whose UsernameKey is
	// UsernameKey(username). ENOTFOUND if there is none.
	UserByUsername(ctx context.Context, username string) (*User, error)

	// UserByID returns one user. ENOTFOUND if there is none.
	UserByID(ctx context.Context, id string) (*User, error)

	// Users returns every user, ordered by ID.
	Users(ctx context.Context) ([]*User, error)

	// SetUserDisabled disables or re-enables a user and raises its
	// TokenVersion by one in the same atomic write, and returns the user
	// as stored. ENOTFOUND if there is none.
	SetUserDisabled(ctx context.Context, id string, disabled bool) (*User, error)

	// SetUserPassword replaces a user's password hash and raises its
	// TokenVersion by one in the same atomic write, and returns the user
	// as stored. ENOTFOUND if there is none.
	SetUserPassword(ctx context.Context, id, passwordHash string) (*User, error)

	// DeleteUser deletes a user. ENOTFOUND if there is none.
	DeleteUser(ctx context.Context, id string) error
}

// APIKeyStore keeps employers' API keys.
type APIKeyStore interface {
	// CreateAPIKey stores k. ECONFLICT if its ID or hash is taken.
	CreateAPIKey(ctx context.Context, k *APIKey) error

	// APIKeyByHash returns the key whose secret has the given hash,
	// revoked or not. ENOTFOUND if there is none.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)

	// APIKeys returns every key, revoked ones included, oldest first.
	APIKeys(ctx context.Context) ([]*APIKey, error)

	// RevokeAPIKey marks a key revoked at at. ENOTFOUND if there is none,
	// ECONFLICT if it is already revoked.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) (*APIKey, error)
}

// SigningKeyStore keeps the certificate-signing keys (sealed under the
// master key).
type SigningKeyStore interface {
	// CreateSigningKey stores a key. If k.Active, every other key stops
	// being active in the same atomic step.
	CreateSigningKey(ctx context.Context, k *SigningKey) error

	// SigningKeys returns every key, oldest first.
	SigningKeys(ctx context.Context) ([]*SigningKey, error)
}

// TrainingStore keeps training records (实名制培训记录).
type TrainingStore interface {
	//
	// CreateTrainingRecord stores r, whose ID the registry derived from
	// (issuer, class, trainee). If a record with that ID exists, nothing is
	// written, r is overwritten with the stored one and created is false.
	CreateTrainingRecord(ctx context.Context, r *TrainingRecord) (created bool, err error)

	// CreateTrainingRecords is CreateTrainingRecord for several records in
	// one write where the backend has one (SQLite: one transaction, all or
	// none; MongoDB: one unordered insert). created[i] is false, and
	// recs[i] overwritten with the stored record, when recs[i].ID exists.
	CreateTrainingRecords(ctx context.Context, recs []*TrainingRecord) (created []bool, err error)

	// TrainingRecord returns one record. ENOTFOUND if there is none.
	TrainingRecord(ctx context.Context, id string) (*TrainingRecord, error)

	// TrainingRecords lists records matching f, newest first (ties by ID),
	// with the total number of matches.
	TrainingRecords(ctx context.Context, f TrainingFilter) ([]*TrainingRecord, int, error)

	// UpdateTrainingOutcome writes r's outcome and subsidy fields and
	// UpdatedAt (nothing else), if the stored certificate number is still
	// prevCertificate: ECONFLICT if it is not (a certificate was issued
	// meanwhile), ENOTFOUND if there is no such record.
	UpdateTrainingOutcome(ctx context.Context, r *TrainingRecord, prevCertificate string) error

	// LinkTrainingCertificate sets the certificate number of a record that
	// has none (or the same one already). ENOTFOUND if there is no such
	// record, ECONFLICT if it names another certificate.
	LinkTrainingCertificate(ctx context.Context, id, number string) error
}

// AuditStore keeps the hash-chained audit log and its signed checkpoints
// (registry/audit.go).
type AuditStore interface {
	// AppendAudit appends each entry, in order, to the hash-chained audit
	// log: it sets e.Seq to the head's seq + 1 and links e to the head
	// (e.Link), atomically with respect to every other appender, in this
	// process or another, so that seqs are gap-free and each entry's Prev
	// is its predecessor's Hash. A backend may append several entries in
	// one write (SQLite: one transaction, all or none).
	AppendAudit(ctx context.Context, es ...*AuditEntry) error

	// AuditEntries returns up to limit entries with seq > after, in seq
	// order.
	AuditEntries(ctx context.Context, after int64, limit int) ([]*AuditEntry, error)

	// AuditHead returns the entry with the highest seq. ENOTFOUND if the
	// log is empty.
	AuditHead(ctx context.Context) (*AuditEntry, error)

	// CreateAuditCheckpoint stores a signed checkpoint. ECONFLICT if one
	// with the same count exists.
	CreateAuditCheckpoint(ctx context.Context, cp *AuditCheckpoint) error

	// AuditCheckpoint returns the checkpoint of count entries, or the one
	// with the highest count when count is 0. ENOTFOUND if there is none.
	AuditCheckpoint(ctx context.Context, count int64) (*AuditCheckpoint, error)

	// AuditCheckpoints returns up to limit checkpoints with count > after,
	// in count order.
	AuditCheckpoints(ctx context.Context, after int64, limit int) ([]*AuditCheckpoint, error)
}

// CertificateScanStore gives the statistics' walk over every certificate
// (registry/stats groups it by holder).
type CertificateScanStore interface {
	// CertificatesInHolderOrder returns up to limit certificates of the
	// holders whose ID-number hashes sort after the given one ("" for
	// all), ordered by that hash; the order within one holder is not
	// given, and the last holder may be cut off at limit.
	CertificatesInHolderOrder(ctx context.Context, after string, limit int) ([]*Certificate, error)
}

// IDCheckStore counts, per holder and day, the ID-number checks of
// number+name lookups that did not answer a match, so that the limit on
// wrong ID numbers (registry/idcheck.go) holds for every server sharing
// the store.
type IDCheckStore interface {
	// ChargeIDCheck adds one to the count of holderHash on day
	// (YYYY-MM-DD) and returns the new count, atomically with respect to
	// every other caller, in this process or another. Counts of days
	// before day may be deleted.
	ChargeIDCheck(ctx context.Context, holderHash, day string) (int, error)

	// RefundIDCheck takes one back from the count of holderHash on day,
	// never below zero; a count that does not exist is no error.
	RefundIDCheck(ctx context.Context, holderHash, day string) error
}

// Store keeps the registry's records. It is declared here, by its user, as
// one interface per concern; registry/sqlite and registry/mongo implement
// it, and registry/storetest is the contract every implementation passes.
type Store interface {
	CertificateStore
	IssuerStore
	UserStore
	APIKeyStore
	SigningKeyStore
	TrainingStore
	AuditStore
	CertificateScanStore
	stats.Store // counters, their upkeep's ops and marks, holder states, plans
	IDCheckStore

	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}
