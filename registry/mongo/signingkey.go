package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/skillreg/skillreg/registry"
)

// keyDoc is a signing key as stored. Whether it is active is not a field
// of its own: the settings document activeKeyID names the one active key,
// so that switching keys is a single-document write, atomic without a
// transaction, and no reader can ever see two active keys or none.
type keyDoc struct {
	ID        string    `bson:"_id"`
	Algorithm string    `bson:"algorithm"`
	Public    []byte    `bson:"public"`
	Sealed    []byte    `bson:"sealed"`
	CreatedAt time.Time `bson:"created_at"`
}

// activeKeyDoc is the settings document naming the active key.
type activeKeyDoc struct {
	ID    string `bson:"_id"`
	KeyID string `bson:"key_id"`
}

func toKeyDoc(k *registry.SigningKey) *keyDoc {
	return &keyDoc{ID: k.ID, Algorithm: k.Algorithm, Public: nonNil(k.Public), Sealed: nonNil(k.Sealed), CreatedAt: msTime(k.CreatedAt)}
}

// CreateSigningKey stores a key. If k.Active it then becomes the active
// key: the key document is written first and the pointer to it second, so
// a crash in between leaves a stored, inactive key and the previous active
// key still active, and a reader that sees the new pointer also sees the
// key (it reads the pointer first). ECONFLICT if a key with k.ID exists.
func (s *Store) CreateSigningKey(ctx context.Context, k *registry.SigningKey) error {
	_, err := s.signingKeys.InsertOne(ctx, toKeyDoc(k))
	switch {
	case mongo.IsDuplicateKeyError(err):
		return registry.Errorf(registry.ECONFLICT, "signing key %s already exists", k.ID)
	case err != nil:
		return internal(err, "store signing key %s", k.ID)
	}
	if k.Active {
		if err := s.setActiveKey(ctx, k.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) setActiveKey(ctx context.Context, id string) error {
	err := upsertOnce(ctx, s.settings, bson.D{{Key: "_id", Value: activeKeyID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "key_id", Value: id}}}})
	if err != nil {
		return internal(err, "make signing key %s active", id)
	}
	return nil
}

// SigningKeys returns every key, oldest first (ties by ID). The pointer to
// the active key is read before the keys: a key is stored before it is
// pointed to, so the list read second always contains the active key.
func (s *Store) SigningKeys(ctx context.Context) ([]*registry.SigningKey, error) {
	var active activeKeyDoc
	if err := s.settings.FindOne(ctx, bson.D{{Key: "_id", Value: activeKeyID}}).Decode(&active); err != nil && !notFound(err) {
		return nil, internal(err, "read the active signing key")
	}
	cur, err := s.signingKeys.Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, internal(err, "list signing keys")
	}
	var docs []keyDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, internal(err, "list signing keys")
	}
	var keys []*registry.SigningKey
	for i := range docs {
		keys = append(keys, docs[i].key(docs[i].ID == active.KeyID))
	}
	return keys, nil
}

func (d *keyDoc) key(active bool) *registry.SigningKey {
	return &registry.SigningKey{
		ID: d.ID, Algorithm: d.Algorithm, Public: nilIfEmpty(d.Public), Sealed: nilIfEmpty(d.Sealed),
		Active: active, CreatedAt: d.CreatedAt.UTC(),
	}
}

// nonNil stores a nil byte slice as empty binary rather than null, so that
// every document has the same field types.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nilIfEmpty reads empty binary back as nil, the value it was stored from.
func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
