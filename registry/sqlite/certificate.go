package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
)

// Listing page sizes: the default when a filter asks for none, and the most
// one page may hold.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
)

// certificateTable is the certificates table as the store reads and writes
// it: every field of registry.Certificate and its column. The column list,
// the INSERT arguments and the scan all come from it.
var certificateTable = []column[registry.Certificate]{
	textColumn("number", func(c *registry.Certificate) *string { return &c.Number }),
	textColumn("issuer_id", func(c *registry.Certificate) *string { return &c.IssuerID }),
	textColumn("holder_name", func(c *registry.Certificate) *string { return &c.HolderName }),
	textColumn("holder_id_masked", func(c *registry.Certificate) *string { return &c.HolderIDMasked }),
	textColumn("holder_id_hash", func(c *registry.Certificate) *string { return &c.HolderIDHash }),
	blobColumn("holder_id_cipher", func(c *registry.Certificate) *[]byte { return &c.HolderIDCipher }),
	textColumn("occupation_code", func(c *registry.Certificate) *string { return &c.OccupationCode }),
	intColumn("level", func(c *registry.Certificate) *registry.Level { return &c.Level }),
	textColumn("channel", func(c *registry.Certificate) *registry.Channel { return &c.Channel }),
	textColumn("issued_on", func(c *registry.Certificate) *string { return &c.IssuedOn }),
	textColumn("external_ref", func(c *registry.Certificate) *string { return &c.ExternalRef }),
	textColumn("status", func(c *registry.Certificate) *string { return &c.Status }),
	optionalTimeColumn("revoked_at", func(c *registry.Certificate) **time.Time { return &c.RevokedAt }),
	textColumn("revoke_reason", func(c *registry.Certificate) *string { return &c.RevokeReason }),
	textColumn("key_id", func(c *registry.Certificate) *string { return &c.KeyID }),
	timeColumn("created_at", func(c *registry.Certificate) *time.Time { return &c.CreatedAt }),
	positiveIntColumn("status_index", func(c *registry.Certificate) *int { return &c.StatusIndex }),
	textColumn("training_record_id", func(c *registry.Certificate) *string { return &c.TrainingRecordID }),
	optionalBlobColumn("token_mac", func(c *registry.Certificate) *[]byte { return &c.TokenMAC }),
}

var (
	// certificateColumns selects every column of certificateTable.
	certificateColumns = columnNames(certificateTable)
	// insertCertificate stores a certificate; its arguments are
	// certificateValues.
	insertCertificate = `INSERT INTO certificates (` + certificateColumns + `) VALUES (` + placeholders(certificateTable) + `)`
)

// certificateValues returns the arguments of insertCertificate for c.
func certificateValues(c *registry.Certificate) []any { return columnValues(certificateTable, c) }

// CreateCertificate stores c with the next serial of prefix, which it also
// writes into c.Number. The lookup of an existing external_ref, the serial
// and the insert are one transaction: if the insert fails the serial is not
// used up, so serials stay gap-free. If c.ExternalRef is not empty and the
// issuer already has a certificate with it, c is overwritten with the
// stored one and created is false. EINVALID if the prefix has no serials
// left or c.IssuerID names no stored issuer.
func (s *Store) CreateCertificate(ctx context.Context, prefix string, c *registry.Certificate) (bool, error) {
	return s.CreateCertificateAudited(ctx, prefix, c, nil)
}

// CreateCertificateAudited is CreateCertificate that also appends e (when
// not nil) to the audit log in the certificate's transaction, with
// e.Attrs["number"] set to the new number, if it creates the certificate.
func (s *Store) CreateCertificateAudited(ctx context.Context, prefix string, c *registry.Certificate, e *registry.AuditEntry) (bool, error) {
	created, err := s.createCertificate(ctx, prefix, c, e)
	if errors.Is(err, errRefTaken) {
		// A safety net: BEGIN IMMEDIATE already makes the lookup and the
		// insert atomic against every writer that uses this package, in
		// this process or another. If the unique index fires anyway (a
		// writer that skipped the lookup), that writer won; answer as if it
		// had committed before we looked.
		stored, err := certificateByRef(s.write.QueryRowContext(ctx, selectByRef, c.IssuerID, c.ExternalRef), c.IssuerID, c.ExternalRef)
		if err != nil {
			return false, err
		}
		*c = *stored
		return false, nil
	}
	return created, err
}

// errRefTaken says that the insert lost a race on (issuer_id, external_ref).
var errRefTaken = errors.New("sqlite: external_ref taken by a concurrent writer")

func (s *Store) createCertificate(ctx context.Context, prefix string, c *registry.Certificate, e *registry.AuditEntry) (bool, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, internal(err, "begin issuing in %s", prefix)
	}
	defer rollback(tx)
	number, created, err := s.createCertificateTx(ctx, tx, prefix, c, e)
	if !created || err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, internal(err, "commit certificate %s", number)
	}
	c.Number = number
	return true, nil
}

// createCertificateTx is createCertificate's work inside tx: the lookup of
// the external_ref, the next serial, the insert and the audit entry. It
// returns the new certificate's number and leaves c.Number to the caller,
// to set once the write stands. On an error the caller rolls back what it
// wrote (the serial included).
func (s *Store) createCertificateTx(ctx context.Context, tx *sql.Tx, prefix string, c *registry.Certificate, e *registry.AuditEntry) (string, bool, error) {
	if c.ExternalRef != "" {
		stored, err := scanCertificate(s.txQueryRow(ctx, tx, selectByRef, c.IssuerID, c.ExternalRef))
		switch {
		case err == nil:
			*c = *stored
			return "", false, nil
		case !errors.Is(err, sql.ErrNoRows):
			return "", false, internal(err, "look up external_ref %q of issuer %s", c.ExternalRef, c.IssuerID)
		}
	}

	var serial int
	err := s.txQueryRow(ctx, tx, nextSerial, prefix).Scan(&serial)
	if err != nil {
		return "", false, internal(err, "next serial of %s", prefix)
	}
	if serial > registry.MaxSerial {
		return "", false, registry.Errorf(registry.EINVALID, "no serials left for prefix %s: all %d are used", prefix, registry.MaxSerial)
	}
	number := registry.FormatNumber(prefix, serial)

	numbered := *c
	numbered.Number = number
	_, err = s.txExec(ctx, tx, insertCertificate, certificateValues(&numbered)...)
	switch {
	case isUnique(err) && strings.Contains(err.Error(), "status_index"):
		return "", false, statusIndexTaken(c.StatusIndex)
	case isUnique(err) && c.ExternalRef != "" && strings.Contains(err.Error(), "external_ref"):
		return "", false, errRefTaken
	case isUnique(err):
		return "", false, registry.Errorf(registry.ECONFLICT, "certificate number %s already exists: the serial counter of %s is behind the stored certificates", number, prefix)
	case isForeignKey(err):
		return "", false, registry.FieldError("issuer_id", "no issuer has the id %q", c.IssuerID)
	case err != nil:
		return "", false, internal(err, "insert certificate %s", number)
	}
	if e != nil {
		attrs := make(map[string]string, len(e.Attrs)+1)
		for k, v := range e.Attrs {
			attrs[k] = v
		}
		attrs["number"] = number
		e.Attrs = attrs
		if err := s.appendAuditTx(ctx, tx, []*registry.AuditEntry{e}); err != nil {
			return "", false, err
		}
	}
	return number, true, nil
}

// certificateByRef reads the certificate of row, a query of selectByRef
// for issuerID and ref. ENOTFOUND if there is none.
func certificateByRef(row *sql.Row, issuerID, ref string) (*registry.Certificate, error) {
	c, err := scanCertificate(row)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "issuer %s has no certificate with external_ref %q", issuerID, ref)
	case err != nil:
		return nil, internal(err, "look up external_ref %q of issuer %s", ref, issuerID)
	}
	return c, nil
}

// Certificate returns one certificate. ENOTFOUND if there is none.
func (s *Store) Certificate(ctx context.Context, number string) (*registry.Certificate, error) {
	c, err := scanCertificate(s.readRow(ctx,
		`SELECT `+certificateColumns+` FROM certificates WHERE number = ?`, number))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, registry.Errorf(registry.ENOTFOUND, "no certificate %s", number)
	case err != nil:
		return nil, internal(err, "read certificate %s", number)
	}
	return c, nil
}

// verificationQuery reads the columns of a certificate that a token
// verification needs (registry.VerificationReader), through the primary
// key's index: not the holder's sealed ID number, its hash, the channel,
// the external reference, the creation time or the training record.
//
// It reads them as one text value, because the driver's cost per column
// (each column's name and declared type, read again on every query, and
// a conversion per value) was most of this read's time with eleven
// columns. The value is a header of space-separated decimals: the byte
// lengths of the eight text columns in verificationTexts order (-1 for a
// NULL revoked_at), the level and the status index (-1 for NULL); then
// the token MAC in hex (empty for none) and a space; then the eight
// texts back to back. splitVerification reads it.
const verificationQuery = `SELECT
	octet_length(issuer_id) || ' ' || octet_length(holder_name) || ' ' || octet_length(occupation_code) || ' ' ||
	octet_length(issued_on) || ' ' || octet_length(status) || ' ' || ifnull(octet_length(revoked_at), -1) || ' ' ||
	octet_length(revoke_reason) || ' ' || octet_length(key_id) || ' ' ||
	level || ' ' || ifnull(status_index, -1) || ' ' || hex(ifnull(token_mac, x'')) || ' ' ||
	issuer_id || holder_name || occupation_code || issued_on || status || ifnull(revoked_at, '') || revoke_reason || key_id
	FROM certificates WHERE number = ?`

// verificationTexts is the number of text columns in verificationQuery's
// value: issuer_id, holder_name, occupation_code, issued_on, status,
// revoked_at, revoke_reason, key_id. revokedAtText is revoked_at's place,
// the one text that may be NULL.
const (
	verificationTexts = 8
	revokedAtText     = 5
)

// VerificationRecord returns the fields of the certificate numbered number
// that verification reads, converted as Certificate converts them (the
// columns of certificateTable), and leaves the others zero. ENOTFOUND if
// there is none. The number is matched exactly (BINARY collation), so the
// record's Number is the one asked for.
//
// The read runs on the store's own driver connections (rawReader), not
// through database/sql, and is not cancelled with ctx: it is one lookup
// by primary key, over in microseconds, while a cancellable context costs
// the driver a watcher goroutine per query.
func (s *Store) VerificationRecord(_ context.Context, number string) (*registry.Certificate, error) {
	v, found, err := s.verification.text(number)
	switch {
	case err != nil:
		return nil, internal(err, "read certificate %s", number)
	case !found:
		return nil, registry.Errorf(registry.ENOTFOUND, "no certificate %s", number)
	}
	c, err := splitVerification(v)
	if err != nil {
		return nil, internal(err, "read certificate %s", number)
	}
	c.Number = number
	return c, nil
}

// splitVerification reads verificationQuery's value into a certificate.
func splitVerification(v string) (*registry.Certificate, error) {
	var nums [verificationTexts + 2]int
	for i := range nums {
		sp := strings.IndexByte(v, ' ')
		if sp < 0 {
			return nil, errors.New("sqlite: verification record: short header")
		}
		n, err := strconv.Atoi(v[:sp])
		if err != nil || n < -1 {
			return nil, fmt.Errorf("sqlite: verification record: header field %d: %q", i, v[:sp])
		}
		nums[i], v = n, v[sp+1:]
	}
	sp := strings.IndexByte(v, ' ')
	if sp < 0 {
		return nil, errors.New("sqlite: verification record: no token MAC field")
	}
	var mac []byte
	if sp > 0 {
		b, err := hex.DecodeString(v[:sp])
		if err != nil {
			return nil, errors.New("sqlite: verification record: token MAC is not hex")
		}
		mac = b
	}
	v = v[sp+1:]
	var texts [verificationTexts]string
	for i := range texts {
		n := nums[i]
		if n == -1 && i == revokedAtText {
			continue
		}
		if n < 0 || n > len(v) {
			return nil, fmt.Errorf("sqlite: verification record: text %d overruns the value", i)
		}
		texts[i], v = v[:n], v[n:]
	}
	if v != "" {
		return nil, errors.New("sqlite: verification record: bytes left over")
	}
	c := &registry.Certificate{
		IssuerID: texts[0], HolderName: texts[1], OccupationCode: texts[2], IssuedOn: texts[3],
		Status: texts[4], RevokeReason: texts[6], KeyID: texts[7],
		Level: registry.Level(nums[verificationTexts]), TokenMAC: mac,
	}
	if nums[revokedAtText] >= 0 {
		t, err := parseTime(texts[revokedAtText])
		if err != nil {
			return nil, err
		}
		c.RevokedAt = &t
	}
	if si := nums[verificationTexts+1]; si > 0 {
		c.StatusIndex = si
	}
	return c, nil
}

// Certificates lists certificates matching f, newest first (ties by number,
// highest first), with the total number of matches. Page counts from 1;
// PerPage defaults to DefaultPerPage and is capped at MaxPerPage. The page
// and the total come from one snapshot, so they agree.
func (s *Store) Certificates(ctx context.Context, f registry.CertificateFilter) ([]*registry.Certificate, int, error) {
	var (
		where []string
		args  []any
	)
	if f.IssuerID != "" {
		where = append(where, `issuer_id = ?`)
		args = append(args, f.IssuerID)
	}
	if f.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, f.Status)
	}
	if f.Level != 0 {
		where = append(where, `level = ?`)
		args = append(args, int(f.Level))
	}
	if f.Occupation != "" {
		// A prefix is a whole code or a parent category: "6-18" matches
		// "6-18-01-01" but not "6-180".
		where = append(where, `(occupation_code = ? OR occupation_code LIKE ? ESCAPE '\')`)
		args = append(args, f.Occupation, escapeLike(f.Occupation)+"-%")
	}
	if f.Query != "" {
		// LIKE, not GLOB, because only LIKE has ESCAPE for every wildcard
		// a user may type. Its ASCII case-folding is harmless: numbers are
		// S or Y and digits, and Chinese names have no case.
		q := escapeLike(f.Query)
		where = append(where, `(number LIKE ? ESCAPE '\' OR holder_name LIKE ? ESCAPE '\')`)
		args = append(args, q+"%", "%"+q+"%")
	}
	cond := whereClause(where)
	page, perPage := pageBounds(f.Page, f.PerPage)

	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, internal(err, "list certificates")
	}
	defer rollback(tx)
	var total int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM certificates`+cond, args...).Scan(&total); err != nil {
		return nil, 0, internal(err, "count certificates")
	}
	list, err := queryCertificates(ctx, tx,
		`SELECT `+certificateColumns+` FROM certificates`+cond+` ORDER BY created_at DESC, number DESC LIMIT ? OFFSET ?`,
		append(args, perPage, (page-1)*perPage)...)
	if err != nil {
		return nil, 0, internal(err, "list certificates")
	}
	return list, total, nil
}

// CertificatesByHolder returns every certificate of the holder whose
// ID-number hash is given, newest first.
func (s *Store) CertificatesByHolder(ctx context.Context, holderHash string) ([]*registry.Certificate, error) {
	list, err := queryCertificates(ctx, readQuerier{s},
		`SELECT `+certificateColumns+` FROM certificates WHERE holder_id_hash = ? ORDER BY created_at DESC, number DESC`,
		holderHash)
	if err != nil {
		return nil, internal(err, "list certificates of a holder")
	}
	return list, nil
}

// holdersPerQuery is the most holder hashes one query of
// CertificatesByHolders asks for. The list is padded (with its first
// hash again) to a power of two of at least 8, so that a handful of
// prepared statements serve every call.
const holdersPerQuery = 256

// CertificatesByHolders returns the certificates of each holder whose
// ID-number hash is given, newest first, a holder with none having no
// entry. One query per holdersPerQuery hashes (IN on the holder index).
func (s *Store) CertificatesByHolders(ctx context.Context, holderHashes []string) (map[string][]*registry.Certificate, error) {
	return certificatesByHolders(ctx, readQuerier{s}, holderHashes)
}

// certificatesByHolders is CertificatesByHolders through q: the read pool's
// prepared statements, or a chunk's transaction.
func certificatesByHolders(ctx context.Context, q querier, holderHashes []string) (map[string][]*registry.Certificate, error) {
	out := make(map[string][]*registry.Certificate, len(holderHashes))
	for len(holderHashes) > 0 {
		part := holderHashes[:min(len(holderHashes), holdersPerQuery)]
		holderHashes = holderHashes[len(part):]
		n := 8
		for n < len(part) {
			n *= 2
		}
		args := make([]any, n)
		for i := range args {
			args[i] = part[0]
			if i < len(part) {
				args[i] = part[i]
			}
		}
		list, err := queryCertificates(ctx, q,
			`SELECT `+certificateColumns+` FROM certificates WHERE holder_id_hash IN (?`+strings.Repeat(`, ?`, n-1)+`)
			ORDER BY holder_id_hash, created_at DESC, number DESC`, args...)
		if err != nil {
			return nil, internal(err, "list certificates of %d holders", len(part))
		}
		for _, c := range list {
			out[c.HolderIDHash] = append(out[c.HolderIDHash], c)
		}
	}
	return out, nil
}

// RevokeCertificate marks a valid certificate revoked. ENOTFOUND if there
// is none, ECONFLICT if it is already revoked. The update is conditional on
// the status, so of two concurrent revocations exactly one wins.
func (s *Store) RevokeCertificate(ctx context.Context, number, reason string, at time.Time) (*registry.Certificate, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, internal(err, "begin revoking %s", number)
	}
	defer rollback(tx)
	c, err := scanCertificate(tx.QueryRowContext(ctx, `
		UPDATE certificates SET status = 'revoked', revoked_at = ?, revoke_reason = ?
		WHERE number = ? AND status = 'valid'
		RETURNING `+certificateColumns,
		formatTime(at), reason, number))
	if errors.Is(err, sql.ErrNoRows) {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM certificates WHERE number = ?`, number).Scan(&status)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, registry.Errorf(registry.ENOTFOUND, "no certificate %s", number)
		case err != nil:
			return nil, internal(err, "revoke certificate %s", number)
		}
		return nil, registry.Errorf(registry.ECONFLICT, "certificate %s is already revoked", number)
	}
	if err != nil {
		return nil, internal(err, "revoke certificate %s", number)
	}
	if err := tx.Commit(); err != nil {
		return nil, internal(err, "commit revocation of %s", number)
	}
	return c, nil
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryCertificates(ctx context.Context, q querier, query string, args ...any) ([]*registry.Certificate, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*registry.Certificate
	for rows.Next() {
		c, err := scanCertificate(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, c)
	}
	return list, rows.Err()
}

func scanCertificate(r scanner) (*registry.Certificate, error) {
	return scanColumns(certificateTable, r)
}

// SetTokenMACs stores the token MAC of each certificate named in macs,
// replacing any; numbers of no certificate are skipped. One transaction,
// committed with synchronous=NORMAL like the statistics steps: a MAC lost
// to a power cut only sends that certificate's verifications back to the
// signature check, which stores the MAC again.
func (s *Store) SetTokenMACs(ctx context.Context, macs map[string][]byte) error {
	if len(macs) == 0 {
		return nil
	}
	return s.inStatsTx(ctx, "set token MACs", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE certificates SET token_mac = ? WHERE number = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for number, mac := range macs {
			if _, err := stmt.ExecContext(ctx, blobOrNull(mac), number); err != nil {
				return err
			}
		}
		return nil
	})
}

// blobOrNull stores an empty byte slice as NULL.
func blobOrNull(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// externalRefWhere finds a certificate by issuer and external_ref. It
// repeats the partial index's condition (external_ref <> ”), without which
// SQLite cannot use that index and scans every certificate of the issuer.
const externalRefWhere = `issuer_id = ? AND external_ref = ? AND external_ref <> ''`

// whereClause joins a listing's conditions into its WHERE clause ("" for
// none).
func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return ` WHERE ` + strings.Join(conds, ` AND `)
}

// pageBounds returns a listing's page (from 1) and page size (the default
// when unset, at most MaxPerPage).
func pageBounds(page, perPage int) (int, int) {
	if perPage < 1 {
		perPage = DefaultPerPage
	}
	return max(page, 1), min(perPage, MaxPerPage)
}
