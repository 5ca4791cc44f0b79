package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// userDoc is a user as stored; _id is the user's ID, and a unique index on
// username_key (registry.UsernameKey) keeps usernames unique regardless of
// case.
type userDoc struct {
	ID           string    `bson:"_id"`
	Username     string    `bson:"username"`
	UsernameKey  string    `bson:"username_key"`
	PasswordHash string    `bson:"password_hash"`
	Role         string    `bson:"role"`
	IssuerID     string    `bson:"issuer_id,omitempty"`
	Province     string    `bson:"province,omitempty"`
	Disabled     bool      `bson:"disabled"`
	TokenVersion int64     `bson:"token_version"`
	CreatedAt    time.Time `bson:"created_at"`
}

func toUserDoc(u *registry.User) *userDoc {
	return &userDoc{
		ID: u.ID, Username: u.Username, UsernameKey: registry.UsernameKey(u.Username), PasswordHash: u.PasswordHash, Role: u.Role,
		IssuerID: u.IssuerID, Province: u.Province, Disabled: u.Disabled, TokenVersion: u.TokenVersion, CreatedAt: msTime(u.CreatedAt),
	}
}

func (d *userDoc) user() *registry.User {
	return &registry.User{
		ID: d.ID, Username: d.Username, PasswordHash: d.PasswordHash, Role: d.Role,
		IssuerID: d.IssuerID, Province: d.Province, Disabled: d.Disabled, TokenVersion: d.TokenVersion, CreatedAt: d.CreatedAt.UTC(),
	}
}

// CreateUser stores a new user. ECONFLICT if the username (whatever its
// case) or the ID is taken, EINVALID if IssuerID names no stored issuer.
func (s *Store) CreateUser(ctx context.Context, u *registry.User) error {
	if u.IssuerID != "" {
		ok, err := s.issuerExists(ctx, u.IssuerID)
		if err != nil {
			return err
		}
		if !ok {
			return registry.FieldError("issuer_id", "no issuer has the id %q", u.IssuerID)
		}
	}
	_, err := s.users.InsertOne(ctx, toUserDoc(u))
	if mongo.IsDuplicateKeyError(err) {
		// Several unique indexes can fire, and the server's message is no
		// contract: look at what is stored instead.
		if other, err := s.UserByUsername(ctx, u.Username); err == nil && other.ID != u.ID {
			return registry.Errorf(registry.ECONFLICT, "username %s is taken", u.Username)
		}
		return registry.Errorf(registry.ECONFLICT, "user id %s already exists", u.ID)
	}
	if err != nil {
		return internal(err, "create user %s", u.Username)
	}
	return nil
}

// UserByUsername returns the user whose name is username regardless of
// case. ENOTFOUND if there is none.
func (s *Store) UserByUsername(ctx context.Context, username string) (*registry.User, error) {
	return s.findUser(ctx, bson.D{{Key: "username_key", Value: registry.UsernameKey(username)}}, "no user "+username)
}

// UserByID returns one user. ENOTFOUND if there is none.
func (s *Store) UserByID(ctx context.Context, id string) (*registry.User, error) {
	return s.findUser(ctx, bson.D{{Key: "_id", Value: id}}, "no user with id "+id)
}

func (s *Store) findUser(ctx context.Context, filter bson.D, missing string) (*registry.User, error) {
	var d userDoc
	err := s.users.FindOne(ctx, filter).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "%s", missing)
	case err != nil:
		return nil, internal(err, "read user")
	}
	return d.user(), nil
}

// SetUserDisabled sets disabled and raises the token version in one
// update. ENOTFOUND if there is no such user.
func (s *Store) SetUserDisabled(ctx context.Context, id string, disabled bool) (*registry.User, error) {
	return s.updateUser(ctx, id, bson.D{{Key: "disabled", Value: disabled}})
}

// SetUserPassword sets the password hash and raises the token version in
// one update. ENOTFOUND if there is no such user.
func (s *Store) SetUserPassword(ctx context.Context, id, passwordHash string) (*registry.User, error) {
	return s.updateUser(ctx, id, bson.D{{Key: "password_hash", Value: passwordHash}})
}

// updateUser sets fields of one user and raises its token version in the
// same single-document update (atomic on every deployment), then reads
// the user back.
func (s *Store) updateUser(ctx context.Context, id string, set bson.D) (*registry.User, error) {
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: set}, {Key: "$inc", Value: bson.D{{Key: "token_version", Value: 1}}}})
	if err != nil {
		return nil, internal(err, "update user %s", id)
	}
	if res.MatchedCount == 0 {
		return nil, registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	}
	return s.UserByID(ctx, id)
}

// DeleteUser deletes a user. ENOTFOUND if there is none.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	res, err := s.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return internal(err, "delete user %s", id)
	}
	if res.DeletedCount == 0 {
		return registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	}
	return nil
}

// keyUsernames gives users stored before usernames were unique regardless
// of case their username_key, before the unique index on it is made. As in
// the SQLite store, the oldest of names that differ only in case keeps its
// name; the others are disabled, their tokens ended, and keyed apart ('#'
// never occurs in a username) so that nobody can log in under them. The
// order is fixed (created_at, _id), so servers starting at once agree, and
// each update applies only to a user still without a key.
func (s *Store) keyUsernames(ctx context.Context) error {
	missing := bson.D{{Key: "username_key", Value: bson.D{{Key: "$exists", Value: false}}}}
	cur, err := s.users.Find(ctx, missing, options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return internal(err, "list users without a username key")
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return internal(err, "list users without a username key")
	}
	for _, d := range docs {
		key := registry.UsernameKey(d.Username)
		set := bson.D{{Key: "username_key", Value: key}}
		update := bson.D{}
		n, err := s.users.CountDocuments(ctx, bson.D{{Key: "username_key", Value: key}})
		if err != nil {
			return internal(err, "check username key")
		}
		if n > 0 {
			set = bson.D{{Key: "username_key", Value: key + "#" + d.ID}, {Key: "disabled", Value: true}}
			update = append(update, bson.E{Key: "$inc", Value: bson.D{{Key: "token_version", Value: 1}}})
		}
		update = append(bson.D{{Key: "$set", Value: set}}, update...)
		if _, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, missing[0]}, update); err != nil {
			return internal(err, "set the username key of user %s", d.ID)
		}
	}
	return nil
}
