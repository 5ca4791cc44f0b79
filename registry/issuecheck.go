package registry

import (
	"context"
	"strings"
)

// CheckIssue runs every check on in that Issue runs (role, the actor's
// issuer, each field, the scope, the holder's identity) and writes nothing. It returns exactly
// the error Issue would return for the same input, or nil when Issue would
// go on to store the certificate. A batch import's dry run and its
// all-or-nothing check pass rest on it.
func (r *Registry) CheckIssue(ctx context.Context, actor *User, in IssueInput) error {
	_, _, _, _, err := r.prepareIssue(ctx, actor, &in)
	return err
}

// FindDuplicate returns the certificate of the actor's organisation that
// issuing in would repeat: one with the same external_ref (any status, as
// Issue would return it), else a valid one for the same holder, occupation
// and level. ENOTFOUND if there is none; EINVALID if the ID number is bad.
//
// It reads the holder's certificates through the keyed ID hash, the one
// lookup the Store offers without writing, so an external_ref that the
// organisation used for a different holder is not found here (Issue still
// never reuses it: it returns the stored certificate, and the caller can
// see the holder differs). A batch import uses it to report rows that
// already exist in a dry run, and to make a corrected or extended file,
// whose derived external_refs differ from the first upload's, issue nothing
// twice.
func (r *Registry) FindDuplicate(ctx context.Context, actor *User, in IssueInput) (*Certificate, error) {
	if err := requireRole(actor, RoleIssuer); err != nil {
		return nil, err
	}
	id, err := NormalizeIDNumber(in.IDNumber)
	if err != nil {
		return nil, err
	}
	certs, err := r.store.CertificatesByHolder(ctx, r.vault.HashID(id))
	if err != nil {
		return nil, err
	}
	return duplicateAmong(certs, actor.IssuerID, in)
}

// FindDuplicates is FindDuplicate for several inputs, with one read of
// all their holders' certificates: found[i] and errs[i] are what
// FindDuplicate(ctx, actor, ins[i]) would return, judged against the
// certificates stored when the read was made. The error result is for
// the actor or the store, and then nothing is judged.
func (r *Registry) FindDuplicates(ctx context.Context, actor *User, ins []IssueInput) (found []*Certificate, errs []error, err error) {
	if err := requireRole(actor, RoleIssuer); err != nil {
		return nil, nil, err
	}
	found, errs = make([]*Certificate, len(ins)), make([]error, len(ins))
	hashes := make([]string, len(ins))
	var ask []string
	seen := map[string]bool{}
	for i := range ins {
		id, err := NormalizeIDNumber(ins[i].IDNumber)
		if err != nil {
			errs[i] = err
			continue
		}
		hashes[i] = r.vault.HashID(id)
		if !seen[hashes[i]] {
			seen[hashes[i]] = true
			ask = append(ask, hashes[i])
		}
	}
	if len(ask) == 0 {
		return found, errs, nil
	}
	byHolder, err := r.store.CertificatesByHolders(ctx, ask)
	if err != nil {
		return nil, nil, err
	}
	for i := range ins {
		if errs[i] == nil {
			found[i], errs[i] = duplicateAmong(byHolder[hashes[i]], actor.IssuerID, ins[i])
		}
	}
	return found, errs, nil
}

// duplicateAmong is FindDuplicate's judgement over the holder's
// certificates, newest first.
func duplicateAmong(certs []*Certificate, issuerID string, in IssueInput) (*Certificate, error) {
	ref := strings.TrimSpace(in.ExternalRef)
	var same *Certificate
	for _, c := range certs {
		if c.IssuerID != issuerID {
			continue
		}
		if ref != "" && c.ExternalRef == ref {
			return c, nil
		}
		if same == nil && c.Status == StatusValid && c.OccupationCode == in.OccupationCode && c.Level == in.Level {
			same = c
		}
	}
	if same == nil {
		return nil, Errorf(ENOTFOUND, "no certificate of this holder, occupation and level")
	}
	return same, nil
}
