package registry

import (
	"context"
	"crypto/subtle"
	"strings"
	"unicode/utf8"
)

// LookupResult is the answer to a lookup by number and name. A match
// answers exactly as a QR verification would (valid or revoked, with the
// public certificate); anything else is just {"status":"not_found"}.
// IDMatches is set only on a match and only when an ID number was given.
type LookupResult struct {
	VerifyResult
	IDMatches *bool `json:"id_matches,omitempty"`
}

// MaxLookupNameRunes is the longest name a lookup accepts. Stored names
// have at most 50 characters; the margin is for stray spaces.
const MaxLookupNameRunes = 64

// maxLookupNumberBytes bounds what a lookup passes to the store: no
// certificate number is longer, so anything longer cannot match.
const maxLookupNumberBytes = 32

// lookupDecoy stands in for the stored name and ID hash when no
// certificate was found, so that the unknown-number path computes and
// compares as much as the wrong-name path does.
var lookupDecoy = &Certificate{HolderName: "查无此证书", HolderIDHash: strings.Repeat("0", 64)}

// Lookup finds a certificate by its number and its holder's name, as the
// national query does, for employers holding a paper certificate without
// a readable QR code. A match answers like Verify; a wrong name, an
// unknown number and a malformed number all answer the same
// {"status":"not_found"}, and the wrong-name and unknown-number paths do
// the same work (one store read, one keyed hash of each name and a
// constant-time compare), so that neither the answer nor its timing tells
// a guesser that a number exists.
//
// Names are compared after NFC normalisation and trimming of surrounding
// space, through the vault's keyed hash, so that no code path compares a
// stored name byte by byte with a guess.
//
// idNumber is optional: when given, a match also answers IDMatches by
// comparing keyed hashes of the canonical ID number, and nothing else
// about the ID. An empty or over-long name is EINVALID on "name"; an ID
// number that fails GB 11643-1999 is EINVALID on "id_number" (checked
// before the store is read, so that it says nothing about the registry).
// The error is otherwise only for internal failures.
//
// The ID check is limited (registry/idcheck.go): past MaxWrongIDChecks
// wrong ID numbers for one holder in a day, a match answers
// EIDCHECKLOCKED instead of IDMatches.
func (r *Registry) Lookup(ctx context.Context, number, name, idNumber string) (LookupResult, error) {
	return r.LookupAs(ctx, Asker{}, number, name, idNumber)
}

func (r *Registry) lookup(ctx context.Context, asker Asker, number, name, idNumber string) (LookupResult, error) {
	name = normalizeName(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return LookupResult{}, FieldError("name", "the holder's name is required")
	case n > MaxLookupNameRunes:
		return LookupResult{}, FieldError("name", "a name may have at most %d characters", MaxLookupNameRunes)
	}
	var wantID string
	if strings.TrimSpace(idNumber) != "" {
		id, err := NormalizeIDNumber(idNumber)
		if err != nil {
			return LookupResult{}, err
		}
		wantID = id
	}
	number = strings.ToUpper(strings.TrimSpace(number))
	if len(number) > maxLookupNumberBytes {
		// Still one store read, for a number that cannot exist.
		number = number[:maxLookupNumberBytes]
	}

	// The one store read, whatever the number looks like.
	c, err := r.store.Certificate(ctx, number)
	found := err == nil
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return LookupResult{}, err
	}
	if _, perr := ParseNumber(number); perr != nil {
		found = false
	}
	stored := c
	if !found {
		stored = lookupDecoy
	}
	nameOK := equalKeyed(r.nameHash(name), r.nameHash(normalizeName(stored.HolderName)))
	idOK := false
	if wantID != "" {
		idOK = equalKeyed(r.vault.HashID(wantID), stored.HolderIDHash)
	}
	if !found || !nameOK {
		return LookupResult{VerifyResult: VerifyResult{Status: VerifyNotFound}}, nil
	}

	// A match: from here on the answer says the certificate exists, so the
	// extra issuer read reveals nothing.
	issuerName, err := r.issuerName(ctx, c.IssuerID)
	if err != nil {
		return LookupResult{}, err
	}
	res := LookupResult{VerifyResult: VerifyResult{Status: VerifyValid, Certificate: c.Public(issuerName)}}
	if c.Status == StatusRevoked {
		res.Status = VerifyRevoked
	}
	if wantID != "" {
		ok, err := r.checkID(ctx, asker, c, idOK)
		if err != nil {
			return LookupResult{}, err
		}
		res.IDMatches = &ok
	}
	return res, nil
}

// normalizeName puts a name in the form lookups compare: the canonical
// form of the name rule (canonicalName: NFC, so that a character typed
// precomposed or decomposed is the same name, spaces of any width
// trimmed, look-alike dots as U+00B7), applied to the stored name too, so
// that a certificate stored before the rule matches as it did.
func normalizeName(s string) string {
	return canonicalName(strings.TrimSpace(s))
}

// nameHash is the keyed hash of a normalised name. The prefix keeps name
// hashes apart from ID-number hashes made with the same key: an ID number
// never contains a NUL byte.
func (r *Registry) nameHash(name string) string {
	return r.vault.HashID("name\x00" + name)
}

// equalKeyed compares two hex keyed hashes in constant time.
func equalKeyed(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
