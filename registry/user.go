package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/skillreg/skillreg/registry/refdata"
)

var usernameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$`)

// UsernameKey is the form under which a username is unique and looked up:
// ASCII letters lowered, nothing else changed. Usernames are ASCII (see
// usernameRe), so Admin and admin are one name; lowering only ASCII keeps
// a login name such as "\u212Aey" (Kelvin sign) from reaching the user
// "key", as full Unicode case folding would.
func UsernameKey(username string) string {
	b := []byte(username)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// PasswordCost is the bcrypt cost of new password hashes. Test programs
// that log in many times lower it (bcrypt.MinCost) before their tests
// start, so that their time goes to what they test; nothing else should
// change it.
var PasswordCost = 12

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
	if err := checkPassword(in.Password, "password"); err != nil {
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
				return nil, FieldError("province", "province must be a 2-digit province code such as 11 or 44, or empty for a national official")
			}
			if _, ok := refdata.ProvinceName(in.Province); !ok {
				return nil, FieldError("province", "%s is not a province code", in.Province)
			}
		}
		u.Province = in.Province
	default:
		return nil, FieldError("role", `role must be "admin", "issuer" or "official"`)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(in.Password), PasswordCost)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = string(h)
	u.ID = newID()
	return u, nil
}

func checkPassword(p, field string) error {
	switch {
	case utf8.RuneCountInString(p) < 10:
		return FieldError(field, "a password needs at least 10 characters")
	case len(p) > 72:
		return FieldError(field, "a password may have at most 72 bytes")
	case strings.TrimSpace(p) == "":
		return FieldError(field, "a password cannot be blank")
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
	// A mismatch, a damaged stored hash and a disabled account all answer
	// the same way, after the same work, so the response says nothing
	// about the account.
	if err := bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)); err != nil || u.Disabled {
		return nil, bad
	}
	return u, nil
}

// UserByID returns a user, for turning a login token back into an actor.
func (r *Registry) UserByID(ctx context.Context, id string) (*User, error) {
	return r.store.UserByID(ctx, id)
}

// UserFilter selects users for a listing; zero fields select everything.
type UserFilter struct {
	Role   string // admin, issuer or official
	Status string // "active" or "disabled"
}

// Users lists users ordered by username. Admin only. EINVALID for an
// unknown role or status.
func (r *Registry) Users(ctx context.Context, actor *User, f UserFilter) ([]*User, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, err
	}
	switch f.Role {
	case "", RoleAdmin, RoleIssuer, RoleOfficial:
	default:
		return nil, FieldError("role", `role must be "admin", "issuer" or "official"`)
	}
	switch f.Status {
	case "", "active", "disabled":
	default:
		return nil, FieldError("status", `status must be "active" or "disabled"`)
	}
	all, err := r.store.Users(ctx)
	if err != nil {
		return nil, err
	}
	list := make([]*User, 0, len(all))
	for _, u := range all {
		if f.Role != "" && u.Role != f.Role || f.Status == "active" && u.Disabled || f.Status == "disabled" && !u.Disabled {
			continue
		}
		list = append(list, u)
	}
	sort.Slice(list, func(i, j int) bool { return UsernameKey(list[i].Username) < UsernameKey(list[j].Username) })
	return list, nil
}

// otherUser returns the user id names, for an admin acting on another
// account: acting on one's own account this way is refused (EINVALID), so
// that the admin cannot lock themselves out; their own password changes
// through ChangePassword. ENOTFOUND if there is no such user.
func (r *Registry) otherUser(ctx context.Context, actor *User, id, what string) (*User, error) {
	if err := requireRole(actor, RoleAdmin); err != nil {
		return nil, err
	}
	if id == actor.ID {
		return nil, FieldError("id", "you cannot %s your own account", what)
	}
	return r.store.UserByID(ctx, id)
}

// SetUserDisabled disables a user (disabled true) or enables them again.
// Admin only, never on one's own account. Disabling ends every login token
// and browser session of the user at once; re-enabling does not bring
// them back. ENOTFOUND if there is no such user.
func (r *Registry) SetUserDisabled(ctx context.Context, actor *User, id string, disabled bool) (*User, error) {
	what, event := "enable", "user.enabled"
	if disabled {
		what, event = "disable", "user.disabled"
	}
	if _, err := r.otherUser(ctx, actor, id, what); err != nil {
		return nil, err
	}
	u, err := r.store.SetUserDisabled(ctx, id, disabled)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, event, actor, "user", u.Username, "role", u.Role)
	return u, nil
}

// DeleteUser deletes a user, which ends their tokens and sessions at once.
// Admin only, never one's own account. The audit log keeps the username in
// the entries the user made. ENOTFOUND if there is no such user.
func (r *Registry) DeleteUser(ctx context.Context, actor *User, id string) error {
	u, err := r.otherUser(ctx, actor, id, "delete")
	if err != nil {
		return err
	}
	if err := r.store.DeleteUser(ctx, id); err != nil {
		return err
	}
	r.audit(ctx, "user.deleted", actor, "user", u.Username, "role", u.Role)
	return nil
}

// ResetPassword sets another user's password. Admin only. It ends the
// user's tokens and sessions at once. EINVALID for a weak password,
// ENOTFOUND if there is no such user.
func (r *Registry) ResetPassword(ctx context.Context, actor *User, id, password string) (*User, error) {
	if _, err := r.otherUser(ctx, actor, id, "reset the password of"); err != nil {
		return nil, err
	}
	h, err := hashPassword(password, "password")
	if err != nil {
		return nil, err
	}
	u, err := r.store.SetUserPassword(ctx, id, h)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "user.password_reset", actor, "user", u.Username)
	return u, nil
}

// ChangePassword sets the acting user's own password after checking the
// current one. It ends every token and session the user had, this one
// included: the caller hands out a new one for the returned user.
// EINVALID on field current_password when it is wrong, on new_password
// when the new one is weak or the same.
func (r *Registry) ChangePassword(ctx context.Context, actor *User, current, next string) (*User, error) {
	if actor == nil {
		return nil, Errorf(EUNAUTHORIZED, "login required")
	}
	u, err := r.store.UserByID(ctx, actor.ID)
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(current)) != nil {
		return nil, FieldError("current_password", "the current password is wrong")
	}
	if next == current {
		return nil, FieldError("new_password", "the new password must differ from the current one")
	}
	h, err := hashPassword(next, "new_password")
	if err != nil {
		return nil, err
	}
	if u, err = r.store.SetUserPassword(ctx, actor.ID, h); err != nil {
		return nil, err
	}
	r.audit(ctx, "user.password_changed", actor, "user", u.Username)
	return u, nil
}

// hashPassword checks a new password and returns its bcrypt hash; field
// names the request field in errors.
func hashPassword(password, field string) (string, error) {
	if err := checkPassword(password, field); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), PasswordCost)
	return string(h), err
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
