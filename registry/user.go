package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

var usernameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$`)

// bcryptCost is a variable so that tests can lower it.
var bcryptCost = 12

// dummyHash is compared against when a username does not exist, so that a
// missing user and a wrong password take the same time.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("skillreg-dummy-password"), bcrypt.MinCost)

// UserInput is what an admin sends to create a user.
type UserInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Role     string `json:"role"`
	IssuerID string `json:"issuer_id"`
	Province string `json:"province"`
}

// CreateUser creates a user. Admin only. An issuer user needs an existing
// issuer_id; an official has a 2-digit province, or none for a national
// official. EINVALID for bad fields, ECONFLICT for a taken username.
func (r *Registry) CreateUser(ctx context.Context, actor *User, in UserInput) (*User, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, err
	}
	u, err := r.newUser(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := r.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	r.audit(ctx, "user.created", actor, "user", u.Username, "role", u.Role, "issuer", u.IssuerID, "province", u.Province)
	return u, nil
}

func (r *Registry) newUser(ctx context.Context, in UserInput) (*User, error) {
	if !usernameRe.MatchString(in.Username) {
		return nil, FieldError("username", "3-64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if err := checkPassword(in.Password); err != nil {
		return nil, err
	}
	u := &User{Username: in.Username, Role: in.Role, CreatedAt: r.now().UTC()}
	switch in.Role {
	case RoleAdmin:
		if in.IssuerID != "" || in.Province != "" {
			return nil, FieldError("role", "an admin has no issuer_id or province")
		}
	case RoleIssuer:
		if in.Province != "" {
			return nil, FieldError("province", "an issuer user belongs to an issuer, not a province")
		}
		if in.IssuerID == "" {
			return nil, FieldError("issuer_id", "an issuer user needs the issuer_id of its organisation")
		}
		if _, err := r.store.Issuer(ctx, in.IssuerID); err != nil {
			if ErrorCode(err) == ENOTFOUND {
				return nil, FieldError("issuer_id", "no issuer has the id %q", in.IssuerID)
			}
			return nil, err
		}
		u.IssuerID = in.IssuerID
	case RoleOfficial:
		if in.IssuerID != "" {
			return nil, FieldError("issuer_id", "an official does not belong to an issuer")
		}
		if in.Province != "" {
			if len(in.Province) != 2 || !allDigits(in.Province) {
				return nil, FieldError("province", "province must be a 2-digit province code, or empty for a national official")
			}
		}
		u.Province = in.Province
	default:
		return nil, FieldError("role", `role must be "admin", "issuer" or "official"`)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcryptCost)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = string(h)
	u.ID = newID()
	return u, nil
}

func checkPassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < 10:
		return FieldError("password", "a password needs at least 10 characters")
	case len(p) > 72:
		return FieldError("password", "a password may have at most 72 bytes")
	case strings.TrimSpace(p) == "":
		return FieldError("password", "a password cannot be blank")
	}
	return nil
}

// Authenticate checks a username and password. Any failure is the same
// EUNAUTHORIZED "invalid username or password", whichever part was wrong.
func (r *Registry) Authenticate(ctx context.Context, username, password string) (*User, error) {
	bad := Errorf(EUNAUTHORIZED, "invalid username or password")
	u, err := r.store.UserByUsername(ctx, username)
	if err != nil {
		if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, bad
	}
	// A mismatch and a damaged stored hash both answer the same way, so
	// the response says nothing about the account.
	if err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)); err != nil {
		return nil, bad
	}
	return u, nil
}

// UserByID returns a user, for turning a login token back into an actor.
func (r *Registry) UserByID(ctx context.Context, id string) (*User, error) {
	return r.store.UserByID(ctx, id)
}

// EnsureAdmin creates the user "admin" with password if no user of that
// name exists. It reports whether it created one.
func (r *Registry) EnsureAdmin(ctx context.Context, password string) (bool, error) {
	if _, err := r.store.UserByUsername(ctx, "admin"); err == nil {
		return false, nil
	} else if ErrorCode(err) != ENOTFOUND {
		return false, err
	}
	u, err := r.newUser(ctx, UserInput{Username: "admin", Password: password, Role: RoleAdmin})
	if err != nil {
		return false, err
	}
	if err := r.store.CreateUser(ctx, u); err != nil {
		if ErrorCode(err) == ECONFLICT { // another process won the race
			return false, nil
		}
		return false, err
	}
	r.audit(ctx, "user.created", nil, "user", "admin", "role", RoleAdmin)
	return true, nil
}

// GeneratePassword returns a random password for the first admin.
func GeneratePassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func newID() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
