package registry

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. handlers/errors.go alone maps them to HTTP statuses.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ERATELIMIT    = "rate_limited"
	ETOOLARGE     = "too_large"
	// EIDENTITY: the ID number is already registered under another name
	// (IdentityConflictName gives the masked existing name).
	EIDENTITY = "identity_conflict"
	// EIDCHECKLOCKED: too many wrong ID numbers for one holder today; the
	// lookup gives no verdict on the ID number (registry/idcheck.go).
	EIDCHECKLOCKED = "id_check_locked"
	// EUNAVAILABLE: the store cannot write now (storage full or
	// read-only, disk errors); the same request can succeed later.
	EUNAVAILABLE = "storage_unavailable"
)

// Error is a domain error: a code for machines, a message for people, and,
// for validation errors, the field it concerns.
type Error struct {
	Code    string
	Field   string
	Message string
	// RetryAfter, when positive, is how long the caller should wait
	// before asking again.
	RetryAfter time.Duration
	// Cause is the underlying error, for logs; never shown to a client.
	Cause error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("registry: %s: %s", e.Code, e.Message)
	if e.Field != "" {
		s = fmt.Sprintf("registry: %s: %s: %s", e.Code, e.Field, e.Message)
	}
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// StorageRetryAfter is the Retry-After of EUNAVAILABLE: long enough for an
// operator to free space, short enough that clients see the recovery soon.
const StorageRetryAfter = 30 * time.Second

// Unavailable returns the EUNAVAILABLE error of a store whose storage
// refuses writes (full, read-only, I/O errors); cause is kept for logs.
// Stores call it at their edge, where they recognise their driver's codes.
func Unavailable(cause error) *Error {
	return &Error{Code: EUNAVAILABLE, Cause: cause, RetryAfter: StorageRetryAfter,
		Message: "the registry cannot write now: its storage is full or read-only; try again later"}
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code string, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an EINVALID *Error about one field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of a domain error, or "internal
// error" for anything else, so that internals never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorField returns the field a validation error concerns, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorRetryAfter returns how long a domain error asks the caller to wait
// before trying again, or 0.
func ErrorRetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}
