package registry

import (
	"context"
	"time"
)

// The ID-number check of a number+name lookup answers whether a given ID
// number is the holder's. A printed certificate shows the holder's name,
// the certificate number and the masked ID number (first 6 and last 4
// characters), so only the birth date is hidden, and the check character
// rules out ten of every eleven candidate dates: a few hundred guesses
// would find the full ID number. So the check is limited per holder: after
// MaxWrongIDChecks wrong answers in one day (China time), every further
// check of that holder's ID number, right or wrong, answers
// EIDCHECKLOCKED without a verdict until the day ends. Counting per holder
// rather than per certificate keeps a person with several certificates
// from giving a guesser several budgets. A right answer costs nothing, so
// an employer who types the right ID number is never locked out by its own
// checks. The count is kept in the store (IDCheckStore), so the limit
// holds for every server of one registry, and every check is charged
// before it is compared, so that guesses sent at once cannot all slip in
// before the first is counted.

// MaxWrongIDChecks is how many wrong ID numbers a holder's certificates
// answer in one day before the check locks. At 5 a day, the ~180 guesses
// that the birth dates of a ten-year span need on average take over a
// month per person.
const MaxWrongIDChecks = 5

// Outcomes of an ID check, as counted in metrics and written in the audit
// log (event certificate.id_checked).
const (
	IDCheckMatch    = "match"
	IDCheckMismatch = "mismatch"
	IDCheckLocked   = "locked"
)

// Asker says who asked for a lookup, for the audit entry of its ID check.
type Asker struct {
	// Actor is an API key ("api_key:<id>"), a username, or "" for an
	// anonymous caller.
	Actor string
	// RequestID ties the audit entry to the request's log line.
	RequestID string
}

// LookupAs is Lookup for a caller the audit log should name: an ID check
// is recorded with asker's actor and request id.
func (r *Registry) LookupAs(ctx context.Context, asker Asker, number, name, idNumber string) (LookupResult, error) {
	res, err := r.lookup(ctx, asker, number, name, idNumber)
	if err == nil && r.hooks.Verified != nil {
		r.hooks.Verified(res.Status)
	}
	return res, err
}

// checkID charges one ID check of c's holder and answers it: the match
// (already computed by the caller, in constant time), or EIDCHECKLOCKED
// once the day's wrong answers are used up. Every call is counted in the
// IDChecked hook and recorded in the audit log, never with the ID number.
func (r *Registry) checkID(ctx context.Context, asker Asker, c *Certificate, match bool) (bool, error) {
	now := r.now().In(ChinaTime)
	day := now.Format(time.DateOnly)
	n, err := r.store.ChargeIDCheck(ctx, c.HolderIDHash, day)
	if err != nil {
		return false, err
	}
	outcome := IDCheckMismatch
	switch {
	case n > MaxWrongIDChecks:
		outcome = IDCheckLocked
	case match:
		outcome = IDCheckMatch
		if err := r.store.RefundIDCheck(ctx, c.HolderIDHash, day); err != nil {
			return false, err
		}
	}
	if r.hooks.IDChecked != nil {
		r.hooks.IDChecked(outcome)
	}
	actor := asker.Actor
	if actor == "" {
		actor = "anonymous"
	}
	attrs := []any{"number", c.Number, "outcome", outcome}
	if asker.RequestID != "" {
		attrs = append(attrs, "request_id", asker.RequestID)
	}
	r.Record(ctx, "certificate.id_checked", actor, attrs...)
	if outcome == IDCheckLocked {
		y, m, d := now.Date()
		midnight := time.Date(y, m, d+1, 0, 0, 0, 0, ChinaTime)
		return false, &Error{Code: EIDCHECKLOCKED, Field: "id_number", RetryAfter: midnight.Sub(now),
			Message: "too many wrong ID numbers were checked against this holder's certificates today; the ID number is not checked again before 00:00 China time. Send number and name without id_number to verify the certificate itself."}
	}
	return match, nil
}
