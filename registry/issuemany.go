package registry

// # Issuing a chunk of certificates
//
// IssueMany issues several certificates (an import's chunk of rows) with
// the guarantees of one Issue per input, but writes their bookkeeping
// together. In order:
//
//  1. marks: one store write holds a stats.Mark for every holder of the
//     chunk, before any certificate is written (step 0 of registry/stats/sync.go,
//     for all of them at once);
//  2. certificates: where the store can (SQLite: CertificateChunkCreator)
//     and the chunk has more than one input and links no training record,
//     all of them in one durable transaction, each certificate with its
//     audit entry and behind a savepoint, so that a refused input takes
//     back its own serial and the serials stay gap-free (the store
//     allocates them); a store failure rolls the whole chunk back. Each
//     certificate is on disk before anyone is told, since no one is told
//     before that commit. Elsewhere (one input, a training link, MongoDB)
//     each certificate is its own durable transaction, with its audit
//     entry where the store can append it there (AuditedCertificateCreator);
//  3. counters: one op per holder whose counted state changed, all
//     sharing one marker, run as `stats check --repair` runs its batches
//     (one op write, one apply, one holder write, one delete,
//     one release for the whole chunk); a holder whose next transition
//     another writer holds is synced alone, as Issue would;
//  4. the marks are set done, in one write;
//  5. the token MACs of the new certificates, in one write;
//  6. on a store that cannot append an entry with its certificate
//     (MongoDB), the chunk's audit entries, in one append.
//
// Crash safety: a process killed at any point leaves one of these states.
//
//   - Before 1 completes: nothing is written. Running the import again
//     issues the rows.
//   - Between 1 and 4: the certificates committed so far exist, the others
//     do not (in one transaction, all of the chunk's or none; one by one,
//     a prefix of them). Running the import again skips each committed one
//     (its external_ref, or its holder, occupation and level:
//     FindDuplicate) and issues the rest, so every row is issued exactly
//     once. The chunk's marks are stored and not done, so statistics
//     recovery (every minute in serve, and first in `stats check`) syncs
//     each of those holders from their certificates: the counters end
//     exact whichever certificates were committed. Ops left behind are the
//     same ops Issue and the repair use; recovery finishes or discards
//     them by the rules in registry/stats/sync.go.
//   - After 4: the counters are exact.
//   - Token MACs not written: those certificates verify by signature,
//     which stores their MAC again (verification.go).
//   - Audit entries: on SQLite an entry commits with its certificate or
//     not at all, so none is ever missing. On MongoDB, entries not yet
//     appended are reported by `skillreg audit verify` as issued
//     certificates without an entry, and `skillreg audit reconcile`
//     appends them, as when Issue's append fails (Record); there a chunk
//     widens that window from one certificate to the chunk.
//
// Nothing here runs inside another's transaction, so the steps need no
// multi-document transactions on MongoDB either.
//
// # Reads of the holders' certificates
//
// Each input's holder has their certificates read at three points:
//
//   - the identity check. In a chunk stored in one transaction
//     (issueChunk), one read of all the chunk's holders inside that
//     transaction, before its first certificate; each certificate the
//     chunk creates is added to what was read, so that every input is
//     judged against the certificates stored before it, this chunk's
//     included, as one Issue after another would. No other writer can
//     commit while the transaction holds the write lock, so nothing
//     another writer (an API issue, another import) stores for the same
//     holder can be missed: the check and the writes are one transaction.
//     Otherwise (checkIdentity) one read per input, right before its
//     certificate is written, as Issue makes it; there the check and the
//     write are not one transaction, so two writers racing for one holder
//     can both pass, and the window stays one input wide. It is never
//     read once for a chunk outside its transaction: a certificate
//     another writer commits while the chunk runs would then be missed
//     by the inputs after it.
//   - the duplicate check of an import (FindDuplicates), one read per
//     batch of rows, in the importer's first stage before the rows are
//     handed on; it only finds what a row would repeat, and the store's
//     external_ref check and the identity check above decide.
//   - the counters (stats.Keeper.EndMany): one read of all the chunk's
//     holders, after the chunk's certificates are committed, so
//     that each holder's counted state includes them, as End reads one
//     holder's after Issue's write.

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry/stats"
)

// IssueOutcome is the result of one input of IssueMany: the certificate
// and whether this call created it (as Issue returns them), or the error
// Issue would have returned for that input.
type IssueOutcome struct {
	Certificate *Certificate
	Created     bool
	Err         error
}

// IssueMany issues a certificate for each input, in order, as Issue would
// one by one, and returns one outcome per input. An input the registry
// refuses (EINVALID, EFORBIDDEN, EIDENTITY) has that error in its
// outcome and does not stop the others. Any other error (the store
// failed) stops the chunk: every input not issued by then carries it, and
// the inputs issued before it stand. The error result is for failures before anything
// was written (the actor may not issue, the keys cannot be loaded).
func (r *Registry) IssueMany(ctx context.Context, actor *User, ins []IssueInput) ([]IssueOutcome, error) {
	if err := requireRole(actor, RoleIssuer); err != nil {
		return nil, err
	}
	is, err := r.store.Issuer(ctx, actor.IssuerID)
	if err != nil {
		return nil, err
	}
	kid, err := r.tokens.ActiveKeyID(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]IssueOutcome, len(ins))
	var todo []pending
	var marks []*stats.Mark
	stop := func(from int, err error) {
		for i := from; i < len(out); i++ {
			if out[i].Certificate == nil && out[i].Err == nil {
				out[i].Err = err
			}
		}
	}
	for i := range ins {
		in := ins[i]
		id, day, err := r.checkIssue(is, &in)
		if err == nil {
			c, prefix, err2 := r.newCertificate(ctx, is, id, day, kid, &in)
			if err2 == nil {
				todo = append(todo, pending{i, c, prefix, id, in})
				marks = append(marks, stats.NewMark(c.HolderIDHash))
				continue
			}
			err = err2
		}
		out[i].Err = err
		if !refusal(err) {
			stop(0, err) // nothing is written yet: no input is issued
			return out, nil
		}
	}
	if len(todo) == 0 {
		return out, nil
	}
	if err := r.stats.BeginMany(ctx, marks); err != nil { // statistics: see registry/stats/sync.go
		stop(0, err)
		return out, nil
	}
	name := "anonymous"
	if actor != nil {
		name = actor.Username
	}
	var created []*Certificate
	var unlogged []*AuditEntry // entries to append after the certificates
	if cc, ok := r.store.(CertificateChunkCreator); ok && len(todo) > 1 && !anyTraining(todo) {
		created = r.issueChunk(ctx, cc, actor, name, todo, out)
		todo = nil
	}
	withCert, _ := r.store.(AuditedCertificateCreator)
	for k, p := range todo {
		// The holder's name is checked against the certificates stored so
		// far, this chunk's included, as one Issue after another would.
		prev, err := r.checkIdentity(ctx, p.id, &p.in)
		var e *AuditEntry
		if withCert != nil {
			e = r.newAuditEntry("certificate.issued", name, issuedAttrs(p.c)...)
		}
		ok := false
		if err == nil {
			ok, err = r.createWithStatusIndex(ctx, p.prefix, p.c, e)
		}
		if err == nil && p.c.TrainingRecordID != "" {
			// After the certificate, so that a retry (same external_ref)
			// that finds it stored completes the link.
			err = r.store.LinkTrainingCertificate(ctx, p.c.TrainingRecordID, p.c.Number)
		}
		if err != nil {
			out[p.i].Err = err
			if !refusal(err) {
				stop(p.i+1, err)
				marks = marks[:k+1]
				break
			}
			continue
		}
		out[p.i] = IssueOutcome{Certificate: p.c, Created: ok}
		if !ok {
			continue
		}
		created = append(created, p.c)
		if e != nil {
			r.logAudit(ctx, e)
		} else {
			e = r.newAuditEntry("certificate.issued", name, issuedAttrs(p.c)...)
			r.logAudit(ctx, e)
			unlogged = append(unlogged, e)
		}
		r.auditNameChange(ctx, actor, p.c, prev, p.in.NameChangeReason)
	}
	r.stats.EndMany(ctx, marks) // statistics: never fails the issuance
	if len(created) > 0 {
		r.sealTokens(ctx, created)
		r.appendAudit(ctx, unlogged)
		if r.hooks.Issued != nil {
			for _, c := range created {
				r.hooks.Issued(c)
			}
		}
	}
	return out, nil
}

// pending is an input of IssueMany that passed its checks: its
// certificate, built and not yet stored.
type pending struct {
	i      int // the input's index
	c      *Certificate
	prefix string
	id     string
	in     IssueInput
}

// anyTraining reports whether an input links a training record, whose link
// is its own write after the certificate's.
func anyTraining(todo []pending) bool {
	for _, p := range todo {
		if p.c.TrainingRecordID != "" {
			return true
		}
	}
	return false
}

// issueChunk stores the certificates of todo with their audit entries in
// one transaction (CertificateChunkCreator), sets their outcomes in out and
// returns the certificates it created. Inside the transaction, which no
// other writer can commit during, it reads the holders' certificates once
// and judges each input's name against them and against the chunk's
// certificates created before it, as one Issue after another would. A
// refused input leaves nothing behind and the others go on. Any other
// failure rolls the whole chunk back: every input of todo then carries the
// error and nothing was issued. The audit entries are logged, and name
// changes audited, after the commit.
func (r *Registry) issueChunk(ctx context.Context, cc CertificateChunkCreator, actor *User, name string, todo []pending, out []IssueOutcome) []*Certificate {
	type stored struct {
		p    *pending
		ok   bool
		prev *Certificate
		e    *AuditEntry
	}
	var done []stored
	var hashes []string
	seen := make(map[string]bool, len(todo))
	for _, p := range todo {
		if h := p.c.HolderIDHash; !seen[h] {
			seen[h] = true
			hashes = append(hashes, h)
		}
	}
	err := cc.CreateCertificateChunk(ctx, func(tx CertificateChunk) error {
		done = done[:0]
		held, err := tx.CertificatesByHolders(ctx, hashes)
		if err != nil {
			return err
		}
		for k := range todo {
			p := &todo[k]
			out[p.i] = IssueOutcome{}
			hash := p.c.HolderIDHash
			prev, err := identityOf(held[hash], &p.in)
			if err != nil {
				out[p.i].Err = err
				continue
			}
			e := r.newAuditEntry("certificate.issued", name, issuedAttrs(p.c)...)
			ok, err := r.createWithStatusIndexBy(ctx, tx.CreateCertificateAudited, p.prefix, p.c, e)
			if err != nil {
				if refusal(err) {
					out[p.i].Err = err
					continue
				}
				return err
			}
			if ok {
				held[hash] = withNewest(held[hash], p.c)
			}
			done = append(done, stored{p, ok, prev, e})
		}
		return nil
	})
	if err != nil {
		for _, p := range todo {
			out[p.i] = IssueOutcome{Err: err}
		}
		return nil
	}
	var created []*Certificate
	for _, d := range done {
		out[d.p.i] = IssueOutcome{Certificate: d.p.c, Created: d.ok}
		if !d.ok {
			continue
		}
		c := d.p.c
		created = append(created, c)
		r.logAudit(ctx, d.e)
		r.auditNameChange(ctx, actor, c, d.prev, d.p.in.NameChangeReason)
	}
	return created
}

// auditNameChange records that c, just issued, names its holder otherwise
// than prev, their latest certificate before it (nothing if prev is nil).
func (r *Registry) auditNameChange(ctx context.Context, actor *User, c, prev *Certificate, reason string) {
	if prev == nil {
		return
	}
	r.audit(ctx, "holder.name_changed", actor, "number", c.Number, "previous_number", prev.Number,
		"previous_name", MaskName(prev.HolderName), "name", MaskName(c.HolderName), "reason", reason)
}

// withNewest adds c to certs, a holder's certificates newest first, where
// the store's order (created_at, then number, descending) puts it.
func withNewest(certs []*Certificate, c *Certificate) []*Certificate {
	i := 0
	for i < len(certs) && (certs[i].CreatedAt.After(c.CreatedAt) || certs[i].CreatedAt.Equal(c.CreatedAt) && certs[i].Number > c.Number) {
		i++
	}
	return append(certs[:i:i], append([]*Certificate{c}, certs[i:]...)...)
}

// issuedAttrs are the attributes of a certificate.issued event. The number
// comes first: a store that appends the entry with the certificate sets
// it there.
func issuedAttrs(c *Certificate) []any {
	return []any{"number", c.Number, "issuer", c.IssuerID, "level", int(c.Level), "occupation", c.OccupationCode}
}

// refusal reports whether err is the registry refusing one input, as
// opposed to a failure that stops the work.
func refusal(err error) bool {
	switch ErrorCode(err) {
	case EINVALID, EFORBIDDEN, EIDENTITY:
		return true
	}
	return false
}

// newCertificate links the input's training record (if it names one) and
// builds the certificate to store, with the prefix of its number.
func (r *Registry) newCertificate(ctx context.Context, is *Issuer, id string, day time.Time, kid string, in *IssueInput) (*Certificate, string, error) {
	in.TrainingRecordID = strings.TrimSpace(in.TrainingRecordID)
	hash := r.vault.HashID(id)
	if in.TrainingRecordID != "" {
		if err := r.linkTraining(ctx, is.ID, in.TrainingRecordID, hash, in.ExternalRef); err != nil {
			return nil, "", err
		}
	}
	cipher, err := r.vault.EncryptID(id)
	if err != nil {
		return nil, "", err
	}
	c := &Certificate{
		IssuerID:         is.ID,
		HolderName:       in.HolderName,
		HolderIDMasked:   MaskIDNumber(id),
		HolderIDHash:     hash,
		HolderIDCipher:   cipher,
		OccupationCode:   in.OccupationCode,
		Level:            in.Level,
		Channel:          in.Channel,
		IssuedOn:         day.Format("2006-01-02"),
		ExternalRef:      in.ExternalRef,
		Status:           StatusValid,
		KeyID:            kid,
		CreatedAt:        r.now().UTC(),
		TrainingRecordID: in.TrainingRecordID,
	}
	return c, NumberPrefix(is.ID, day.Year(), in.Level), nil
}

// appendAudit appends entries already logged, in one write; a failure is
// logged with each entry, as Record does, for `skillreg audit reconcile`.
func (r *Registry) appendAudit(ctx context.Context, entries []*AuditEntry) {
	if len(entries) == 0 {
		return
	}
	if err := r.store.AppendAudit(context.WithoutCancel(ctx), entries...); err != nil {
		for _, e := range entries {
			attrs := []slog.Attr{slog.String("event", e.Event), slog.String("actor", e.Actor), slog.String("err", err.Error())}
			for _, k := range sortedKeys(e.Attrs) {
				attrs = append(attrs, slog.String(k, e.Attrs[k]))
			}
			r.log.LogAttrs(ctx, slog.LevelError, "audit.append_failed", attrs...)
		}
	}
}
