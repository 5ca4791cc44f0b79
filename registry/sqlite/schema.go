package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations is the schema's history, oldest first: migration i brings the
// database to version i+1. Never edit or reorder a released entry; append a
// new one instead, so that every existing database can follow.
var migrations = []string{
	// 1: the first schema.
	`
CREATE TABLE issuers (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	kind       TEXT NOT NULL,
	org_code   TEXT NOT NULL,
	province   TEXT NOT NULL,
	site       TEXT NOT NULL,
	scope      TEXT NOT NULL, -- JSON of registry.Scope
	created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	username      TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	role          TEXT NOT NULL,
	issuer_id     TEXT REFERENCES issuers(id), -- NULL unless role is issuer
	province      TEXT NOT NULL,
	created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE certificates (
	number           TEXT PRIMARY KEY,
	issuer_id        TEXT NOT NULL REFERENCES issuers(id),
	holder_name      TEXT NOT NULL,
	holder_id_masked TEXT NOT NULL,
	holder_id_hash   TEXT NOT NULL,
	holder_id_cipher BLOB NOT NULL,
	occupation_code  TEXT NOT NULL,
	level            INTEGER NOT NULL,
	channel          TEXT NOT NULL,
	issued_on        TEXT NOT NULL,
	external_ref     TEXT NOT NULL,
	status           TEXT NOT NULL CHECK (status IN ('valid', 'revoked')),
	revoked_at       TEXT,
	revoke_reason    TEXT NOT NULL,
	key_id           TEXT NOT NULL,
	created_at       TEXT NOT NULL
) STRICT;

-- Idempotent issuance: one certificate per (issuer, external_ref).
CREATE UNIQUE INDEX certificates_external_ref ON certificates (issuer_id, external_ref)
	WHERE external_ref <> '';
-- All certificates of one person.
CREATE INDEX certificates_holder ON certificates (holder_id_hash, created_at);
-- Listings, newest first: one issuer's, and everyone's (admin).
CREATE INDEX certificates_issuer_created ON certificates (issuer_id, created_at, number);
CREATE INDEX certificates_created ON certificates (created_at, number);

-- The last serial handed out per number prefix (registry.NumberPrefix).
CREATE TABLE serials (
	prefix TEXT PRIMARY KEY,
	last   INTEGER NOT NULL
) STRICT;

CREATE TABLE signing_keys (
	id         TEXT PRIMARY KEY,
	algorithm  TEXT NOT NULL,
	public     BLOB NOT NULL,
	sealed     BLOB NOT NULL,
	active     INTEGER NOT NULL CHECK (active IN (0, 1)),
	created_at TEXT NOT NULL
) STRICT;

-- At most one active key, whatever a caller does.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (active) WHERE active = 1;
`,
	// 2: revocation status-list indexes and employers' API keys.
	// Certificates stored before get their index from
	// registry.AssignStatusIndexes (at serve start-up): it must be random,
	// which plain SQL cannot promise.
	`
ALTER TABLE certificates ADD COLUMN status_index INTEGER CHECK (status_index > 0);
-- One certificate per index; NULLs (not yet indexed) are distinct.
CREATE UNIQUE INDEX certificates_status_index ON certificates (status_index);
-- The trust bundle reads the revoked indexes only.
CREATE INDEX certificates_revoked_status_index ON certificates (status_index) WHERE status = 'revoked';

CREATE TABLE api_keys (
	id              TEXT PRIMARY KEY,
	name            TEXT NOT NULL,
	hash            TEXT NOT NULL UNIQUE, -- hex SHA-256 of the secret
	hint            TEXT NOT NULL,
	rate_per_minute INTEGER NOT NULL,
	created_by      TEXT NOT NULL,
	created_at      TEXT NOT NULL,
	revoked_at      TEXT
) STRICT;
`,
	// 3: training records (实名制培训), and the training record a
	// certificate came from.
	`
CREATE TABLE training_records (
	id                 TEXT PRIMARY KEY, -- registry.TrainingRecordID(issuer, class, holder)
	issuer_id          TEXT NOT NULL REFERENCES issuers(id),
	province           TEXT NOT NULL,
	class_id           TEXT NOT NULL,
	name               TEXT NOT NULL,
	id_masked          TEXT NOT NULL,
	id_hash            TEXT NOT NULL,
	id_cipher          BLOB NOT NULL,
	sex                TEXT NOT NULL,
	education          TEXT NOT NULL,
	phone              TEXT NOT NULL,
	target_group       TEXT NOT NULL,
	occupation_code    TEXT NOT NULL,
	target_level       INTEGER NOT NULL,
	training_type      TEXT NOT NULL,
	hours              INTEGER NOT NULL,
	start              TEXT NOT NULL,
	end                TEXT NOT NULL,
	completed          INTEGER NOT NULL CHECK (completed IN (0, 1)),
	exam_result        TEXT NOT NULL,
	certificate_number TEXT NOT NULL,
	employed           INTEGER CHECK (employed IN (0, 1)), -- NULL: not known
	subsidy_category   TEXT NOT NULL,
	subsidy_amount_fen INTEGER NOT NULL,
	subsidy_payee      TEXT NOT NULL,
	created_at         TEXT NOT NULL,
	updated_at         TEXT NOT NULL
) STRICT;
CREATE INDEX training_issuer_created ON training_records (issuer_id, created_at, id);
CREATE INDEX training_province_created ON training_records (province, created_at, id);
CREATE INDEX training_created ON training_records (created_at, id);
ALTER TABLE certificates ADD COLUMN training_record_id TEXT NOT NULL DEFAULT '';
`,
	// 4: the hash-chained audit log and its signed
	// checkpoints (registry/audit.go gives the canonical encoding).
	`
CREATE TABLE audit_log (
	seq    INTEGER PRIMARY KEY CHECK (seq > 0),
	time   TEXT NOT NULL,
	event  TEXT NOT NULL,
	actor  TEXT NOT NULL,
	attrs  TEXT NOT NULL, -- JSON object of strings
	prev   TEXT NOT NULL,
	hash   TEXT NOT NULL
) STRICT;

CREATE TABLE audit_checkpoints (
	count     INTEGER PRIMARY KEY CHECK (count > 0),
	head_hash TEXT NOT NULL,
	time      TEXT NOT NULL,
	key_id    TEXT NOT NULL,
	jws       TEXT NOT NULL
) STRICT;
`,
	// 5: the statistics counters, their pending markers, ops, holder
	// states, marks and plans; registry/stats/sync.go gives the design.
	`
CREATE TABLE stats_cells (
	id       TEXT PRIMARY KEY, -- stats.Cell.ID
	kind     TEXT NOT NULL,
	province TEXT NOT NULL,
	category TEXT NOT NULL,
	channel  TEXT NOT NULL,
	level    INTEGER NOT NULL,
	year     INTEGER NOT NULL,
	n        INTEGER NOT NULL
) STRICT;
-- One rollup's years (the trend), and one year of every province.
CREATE INDEX stats_cells_rollup ON stats_cells (category, channel, province, year);
CREATE INDEX stats_cells_by_year ON stats_cells (category, channel, year, province);
-- The markers applied and not yet released. An apply is one transaction,
-- so a marker stands for every counter it moved.
CREATE TABLE stats_pending (
	marker TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;
CREATE TABLE stats_ops (
	id         TEXT PRIMARY KEY,
	created_at TEXT NOT NULL,
	body       TEXT NOT NULL -- JSON of stats.Op
) STRICT;
CREATE TABLE stats_holders (
	hash    TEXT PRIMARY KEY,
	version INTEGER NOT NULL,
	certs   TEXT NOT NULL -- JSON of []stats.HolderCert
) STRICT;
CREATE TABLE stats_marks (
	id      TEXT PRIMARY KEY,
	hash    TEXT NOT NULL,
	at      TEXT NOT NULL,
	done    INTEGER NOT NULL CHECK (done IN (0, 1)),
	done_at TEXT NOT NULL
) STRICT;
CREATE INDEX stats_marks_done ON stats_marks (done, at);
CREATE TABLE stats_plans (
	id         TEXT PRIMARY KEY,
	created_at TEXT NOT NULL,
	body       TEXT NOT NULL -- JSON of stats.Plan
) STRICT;
`,
	// 6: ID checks of lookups that did not answer a match, per holder and
	// day (registry/idcheck.go).
	`
CREATE TABLE id_checks (
	holder_hash TEXT NOT NULL,
	day         TEXT NOT NULL, -- YYYY-MM-DD, China time
	n           INTEGER NOT NULL,
	PRIMARY KEY (holder_hash, day)
) STRICT, WITHOUT ROWID;
CREATE INDEX id_checks_day ON id_checks (day);
-- Readiness's probe writes (CheckWrite); always empty between them.
CREATE TABLE write_probe (
	id  INTEGER PRIMARY KEY,
	pad BLOB NOT NULL
) STRICT;
`,
	// 7: usernames unique regardless of case (username_key is
	// registry.UsernameKey: ASCII lowered, as SQLite's lower() does), and
	// the account lifecycle (disabled, and the token version that ends a
	// user's login tokens and sessions). Of stored names that differ only
	// in case, the oldest keeps its name; the others are disabled, their
	// tokens ended, and keyed apart ('#' never occurs in a username), so
	// that nobody can log in under them: the admin deletes them and
	// creates them again under new names.
	`
ALTER TABLE users ADD COLUMN username_key TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1));
ALTER TABLE users ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
UPDATE users SET username_key = lower(username) WHERE id IN (
	SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY lower(username) ORDER BY created_at, id) AS n FROM users) WHERE n = 1);
UPDATE users SET username_key = lower(username) || '#' || id, disabled = 1, token_version = token_version + 1
	WHERE username_key = '';
CREATE UNIQUE INDEX users_username_key ON users (username_key);
`,
	// 8: token MACs: the keyed MAC of each certificate's issued token
	// (registry.Vault.TokenMAC), NULL until it is made.
	`
ALTER TABLE certificates ADD COLUMN token_mac BLOB;
`,
}

// migrate brings the schema up to date in one IMMEDIATE transaction, so
// that two processes opening a new file at once do not both migrate it.
// Running it again on an up-to-date database changes nothing.
func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer rollback(tx)
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL) STRICT`); err != nil {
		return err
	}
	var version int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this program knows (%d): upgrade skillreg", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (?)`, i+1); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return tx.Commit()
}
