package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// A store that forgets a field must fail loudly. The round trips below
// fill every exported field of each stored type by reflection, each with a
// value no other field has, so a field added to a registry type is stored
// and read back by every backend or the suite fails, and two columns mixed
// up are caught too. Only what the store itself decides (a certificate's
// number, an audit entry's seq and links) or constrains (a foreign key, a
// status) is set by hand, and a check refuses any field left zero.

// filler gives each field it fills a value of its own.
type filler struct{ n int }

// fillAll returns a *T whose exported fields, at every depth, are set to
// distinct non-zero values; set then adjusts what the store constrains.
func fillAll[T any](set func(*T)) *T {
	var v T
	(&filler{}).fill(reflect.ValueOf(&v).Elem(), reflect.TypeFor[T]().Name())
	if set != nil {
		set(&v)
	}
	return &v
}

func (f *filler) fill(v reflect.Value, name string) {
	f.n++
	n := f.n
	if v.Type() == reflect.TypeFor[time.Time]() {
		// Milliseconds, UTC: the finest every backend keeps.
		v.Set(reflect.ValueOf(base.Add(time.Duration(n)*time.Hour + time.Duration(n)*time.Millisecond)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, n))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		f.fill(v.Elem(), name)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			f.fill(s.Index(i), name)
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		f.fill(k, name+"Key")
		f.fill(e, name)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if sf := v.Type().Field(i); sf.IsExported() {
				f.fill(v.Field(i), sf.Name)
			}
		}
	default:
		panic(fmt.Sprintf("storetest: cannot fill %s (%s)", name, v.Type()))
	}
}

// zeroFields returns the paths of the fields of v that are zero, at every
// depth, except those named in except (top-level field names).
func zeroFields(v any, except ...string) []string {
	skip := map[string]bool{}
	for _, e := range except {
		skip[e] = true
	}
	var out []string
	var walk func(v reflect.Value, path string, top bool)
	walk = func(v reflect.Value, path string, top bool) {
		if v.IsZero() {
			out = append(out, path)
			return
		}
		switch {
		case v.Type() == reflect.TypeFor[time.Time]():
		case v.Kind() == reflect.Pointer:
			walk(v.Elem(), path, top)
		case v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), false)
			}
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				sf := v.Type().Field(i)
				if !sf.IsExported() || (top && skip[sf.Name]) {
					continue
				}
				walk(v.Field(i), path+"."+sf.Name, false)
			}
		}
	}
	walk(reflect.ValueOf(v), reflect.TypeOf(v).Elem().Name(), true)
	return out
}

// keptWhole compares a record read back with the one stored, after
// checking that the stored one had every field set but those named in
// notStored (fields that are not part of the stored record).
func keptWhole(t *testing.T, what string, got, want any, notStored ...string) {
	t.Helper()
	if zero := zeroFields(want, notStored...); len(zero) > 0 {
		t.Fatalf("%s: the test stored zero values in %v; give them values the store keeps", what, zero)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: a field was not kept:\n got %+v\nwant %+v", what, got, want)
		gv, wv := reflect.ValueOf(got).Elem(), reflect.ValueOf(want).Elem()
		for i := range wv.NumField() {
			if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
				t.Errorf("%s.%s: got %#v, want %#v", what, wv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
			}
		}
	}
}

// roundTrip stores a record of type T with every field set (set adjusts
// what the store constrains), reads it back with load and compares it with
// a second record filled the same way, so that a store writing into the
// record it is given cannot hide a field it lost. assigned copies what
// the store decides (a number, a seq) from the stored record into the
// wanted one; notStored names fields that are not part of a stored record.
func roundTrip[T any](t *testing.T, set func(*T), store func(in *T) error, load func(in *T) (*T, error),
	assigned func(want, in *T), notStored ...string) {
	t.Helper()
	what := reflect.TypeFor[T]().Name()
	in, want := fillAll(set), fillAll(set)
	if err := store(in); err != nil {
		t.Fatalf("storing a %s: %v", what, err)
	}
	if assigned != nil {
		assigned(want, in)
	}
	got, err := load(in)
	if err != nil {
		t.Fatalf("reading the %s back: %v", what, err)
	}
	keptWhole(t, what, got, want, notStored...)
}

// only returns the single record of list, or an error.
func only[T any](list []*T, err error) (*T, error) {
	if err == nil && len(list) != 1 {
		err = fmt.Errorf("%d records, want 1", len(list))
	}
	if err != nil {
		return nil, err
	}
	return list[0], nil
}

// testEveryFieldKept stores one record of each type with every field set
// and reads it back whole.
func testEveryFieldKept(t *testing.T, s registry.Store) {
	ctx := context.Background()
	roundTrip(t, func(is *registry.Issuer) { is.ID = issuerA },
		func(is *registry.Issuer) error { return s.CreateIssuer(ctx, is) },
		func(is *registry.Issuer) (*registry.Issuer, error) { return s.Issuer(ctx, is.ID) }, nil)

	roundTrip(t, func(u *registry.User) { u.IssuerID = issuerA },
		func(u *registry.User) error { return s.CreateUser(ctx, u) },
		func(u *registry.User) (*registry.User, error) { return s.UserByID(ctx, u.ID) }, nil)

	roundTrip(t,
		func(c *registry.Certificate) {
			c.Number, c.IssuerID, c.Level = "", issuerA, registry.Level3
			c.Status = registry.StatusRevoked // revoked, so that RevokedAt is kept as well
		},
		func(c *registry.Certificate) error {
			created, err := s.CreateCertificate(ctx, prefixOf(c.IssuerID, c.Level), c)
			if err == nil && !created {
				err = fmt.Errorf("created = false")
			}
			return err
		},
		func(c *registry.Certificate) (*registry.Certificate, error) { return s.Certificate(ctx, c.Number) },
		func(want, in *registry.Certificate) { want.Number = in.Number })

	roundTrip(t, func(r *registry.TrainingRecord) { r.IssuerID, r.TargetLevel = issuerA, registry.Level4 },
		func(r *registry.TrainingRecord) error {
			created, err := s.CreateTrainingRecord(ctx, r)
			if err == nil && !created {
				err = fmt.Errorf("created = false")
			}
			return err
		},
		func(r *registry.TrainingRecord) (*registry.TrainingRecord, error) { return s.TrainingRecord(ctx, r.ID) }, nil)

	// A key is created unrevoked; RevokeAPIKey sets RevokedAt.
	revokedAt := base.Add(time.Hour + time.Millisecond)
	roundTrip(t, nil,
		func(k *registry.APIKey) error {
			k.RevokedAt = nil
			if err := s.CreateAPIKey(ctx, k); err != nil {
				return err
			}
			_, err := s.RevokeAPIKey(ctx, k.ID, revokedAt)
			return err
		},
		func(k *registry.APIKey) (*registry.APIKey, error) { return s.APIKeyByHash(ctx, k.Hash) },
		func(want, _ *registry.APIKey) { want.RevokedAt = &revokedAt })

	roundTrip(t, nil,
		func(k *registry.SigningKey) error { return s.CreateSigningKey(ctx, k) },
		func(*registry.SigningKey) (*registry.SigningKey, error) { return only(s.SigningKeys(ctx)) }, nil)

	roundTrip(t, nil,
		func(e *registry.AuditEntry) error { return s.AppendAudit(ctx, e) },
		func(*registry.AuditEntry) (*registry.AuditEntry, error) { return only(s.AuditEntries(ctx, 0, 10)) },
		func(want, in *registry.AuditEntry) { want.Seq, want.Prev, want.Hash = in.Seq, in.Prev, in.Hash })

	roundTrip(t, nil,
		func(cp *registry.AuditCheckpoint) error { return s.CreateAuditCheckpoint(ctx, cp) },
		func(cp *registry.AuditCheckpoint) (*registry.AuditCheckpoint, error) {
			return s.AuditCheckpoint(ctx, cp.Count)
		}, nil)

	// BuiltIn marks the plan the registry carries in its code, which is
	// never stored.
	roundTrip(t, func(p *stats.Plan) { p.BuiltIn = false },
		func(p *stats.Plan) error { return s.CreatePlan(ctx, p) },
		func(*stats.Plan) (*stats.Plan, error) { return only(s.Plans(ctx)) }, nil, "BuiltIn")

	roundTrip(t, nil,
		func(op *stats.Op) error {
			_, err := s.CreateStatsOps(ctx, []*stats.Op{op})
			return err
		},
		func(*stats.Op) (*stats.Op, error) { return only(s.StatsOps(ctx)) }, nil)

	roundTrip(t, func(h *stats.Holder) { h.Version = 1 }, // a holder's first version
		func(h *stats.Holder) error { return s.SetStatsHolders(ctx, []*stats.Holder{h}) },
		func(h *stats.Holder) (*stats.Holder, error) {
			return only(s.StatsHolders(ctx, []string{h.Hash}))
		}, nil)

	roundTrip(t, nil,
		func(m *stats.Mark) error { return s.PutStatsMarks(ctx, m) },
		func(*stats.Mark) (*stats.Mark, error) { return only(s.StatsMarks(ctx, time.Time{})) }, nil)
}
