package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/skillreg/skillreg/registry"
)

// userDoc is a user as stored; _id is the user's ID, and a unique index
// keeps usernames unique.
type userDoc struct {
	ID           string    `bson:"_id"`
	Username     string    `bson:"username"`
	PasswordHash string    `bson:"password_hash"`
	Role         string    `bson:"role"`
	IssuerID     string    `bson:"issuer_id,omitempty"`
	Province     string    `bson:"province,omitempty"`
	CreatedAt    time.Time `bson:"created_at"`
}

func toUserDoc(u *registry.User) *userDoc {
	return &userDoc{
		ID: u.ID, Username: u.Username, PasswordHash: u.PasswordHash, Role: u.Role,
		IssuerID: u.IssuerID, Province: u.Province, CreatedAt: msTime(u.CreatedAt),
	}
}

func (d *userDoc) user() *registry.User {
	return &registry.User{
		ID: d.ID, Username: d.Username, PasswordHash: d.PasswordHash, Role: d.Role,
		IssuerID: d.IssuerID, Province: d.Province, CreatedAt: d.CreatedAt.UTC(),
	}
}

// CreateUser stores a new user. ECONFLICT if the username (or the ID) is
// taken, EINVALID if IssuerID names no stored issuer.
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
		// Two unique indexes can fire, and the server's message is no
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

// UserByUsername returns one user. ENOTFOUND if there is none.
func (s *Store) UserByUsername(ctx context.Context, username string) (*registry.User, error) {
	return s.findUser(ctx, bson.D{{Key: "username", Value: username}}, "no user "+username)
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

// SetUserPassword replaces the password hash of the user with this id.
// ENOTFOUND if there is none.
func (s *Store) SetUserPassword(ctx context.Context, id, passwordHash string) error {
	res, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "password_hash", Value: passwordHash}}}})
	if err != nil {
		return internal(err, "set the password of user %s", id)
	}
	if res.MatchedCount == 0 {
		return registry.Errorf(registry.ENOTFOUND, "no user with id %s", id)
	}
	return nil
}
