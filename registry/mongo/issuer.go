package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// issuerDoc is an issuer as stored; _id is its 13-character ID.
type issuerDoc struct {
	ID        string    `bson:"_id"`
	Name      string    `bson:"name"`
	Kind      string    `bson:"kind"`
	OrgCode   string    `bson:"org_code"`
	Province  string    `bson:"province"`
	Site      string    `bson:"site"`
	Scope     scopeDoc  `bson:"scope"`
	CreatedAt time.Time `bson:"created_at"`
}

// scopeDoc keeps a nil occupation list as BSON null, not as an empty
// array, so that an absent list comes back absent.
type scopeDoc struct {
	Occupations []string `bson:"occupations"`
	MaxLevel    int      `bson:"max_level"`
}

func toIssuerDoc(is *registry.Issuer) *issuerDoc {
	return &issuerDoc{
		ID: is.ID, Name: is.Name, Kind: is.Kind, OrgCode: is.OrgCode, Province: is.Province, Site: is.Site,
		Scope:     scopeDoc{Occupations: is.Scope.Occupations, MaxLevel: int(is.Scope.MaxLevel)},
		CreatedAt: msTime(is.CreatedAt),
	}
}

func (d *issuerDoc) issuer() *registry.Issuer {
	return &registry.Issuer{
		ID: d.ID, Name: d.Name, Kind: d.Kind, OrgCode: d.OrgCode, Province: d.Province, Site: d.Site,
		Scope:     registry.Scope{Occupations: d.Scope.Occupations, MaxLevel: registry.Level(d.Scope.MaxLevel)},
		CreatedAt: d.CreatedAt.UTC(),
	}
}

// CreateIssuer stores a new issuer. ECONFLICT if its ID exists.
func (s *Store) CreateIssuer(ctx context.Context, is *registry.Issuer) error {
	_, err := s.issuers.InsertOne(ctx, toIssuerDoc(is))
	switch {
	case mongo.IsDuplicateKeyError(err):
		return registry.Errorf(registry.ECONFLICT, "issuer %s already exists", is.ID)
	case err != nil:
		return internal(err, "create issuer %s", is.ID)
	}
	return nil
}

// Issuer returns one issuer. ENOTFOUND if there is none.
func (s *Store) Issuer(ctx context.Context, id string) (*registry.Issuer, error) {
	var d issuerDoc
	err := s.issuers.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	switch {
	case notFound(err):
		return nil, registry.Errorf(registry.ENOTFOUND, "no issuer %s", id)
	case err != nil:
		return nil, internal(err, "read issuer %s", id)
	}
	return d.issuer(), nil
}

// Issuers lists all issuers ordered by ID.
func (s *Store) Issuers(ctx context.Context) ([]*registry.Issuer, error) {
	cur, err := s.issuers.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list issuers")
	}
	var docs []issuerDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list issuers")
	}
	var list []*registry.Issuer
	for i := range docs {
		list = append(list, docs[i].issuer())
	}
	return list, nil
}

// issuerExists reports whether an issuer with id is stored. The SQLite
// store has a foreign key for this; here it is a read before the write.
func (s *Store) issuerExists(ctx context.Context, id string) (bool, error) {
	err := s.issuers.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	switch {
	case notFound(err):
		return false, nil
	case err != nil:
		return false, internal(err, "read issuer %s", id)
	}
	return true, nil
}
