package sqlite

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A column maps one field of a record of type T to one column of its
// table. A table is a []column[T]: the column list of a SELECT or INSERT,
// the INSERT's arguments and the scan of a row all come from it, in its
// order, so that adding a field means adding one line to one table rather
// than keeping several positional lists in step.
type column[T any] struct {
	name string
	// value returns what an INSERT writes for the field.
	value func(r *T) any
	// dest returns where a scan reads the column into, and a step that
	// moves it into the field after the scan (nil if it scans straight
	// into the field).
	dest func(r *T) (any, func() error)
}

// columnNames returns the table's column list, "a, b, c".
func columnNames[T any](table []column[T]) string {
	names := make([]string, len(table))
	for i, c := range table {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// placeholders returns one "?" per column, "?, ?, ?".
func placeholders[T any](table []column[T]) string {
	return strings.TrimSuffix(strings.Repeat("?, ", len(table)), ", ")
}

// columnValues returns the INSERT arguments of r, in the table's order.
func columnValues[T any](table []column[T], r *T) []any {
	args := make([]any, len(table))
	for i, c := range table {
		args[i] = c.value(r)
	}
	return args
}

// scanColumns reads one row, selected with columnNames(table), into a new
// record.
func scanColumns[T any](table []column[T], row scanner) (*T, error) {
	var r T
	dests := make([]any, len(table))
	var after []func() error
	for i, c := range table {
		d, fn := c.dest(&r)
		dests[i] = d
		if fn != nil {
			after = append(after, fn)
		}
	}
	if err := row.Scan(dests...); err != nil {
		return nil, err
	}
	for _, fn := range after {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	return &r, nil
}

// textColumn stores a string field (or one of a string type) as TEXT.
func textColumn[T any, S ~string](name string, field func(*T) *S) column[T] {
	return column[T]{
		name:  name,
		value: func(r *T) any { return string(*field(r)) },
		dest: func(r *T) (any, func() error) {
			var s string
			return &s, func() error { *field(r) = S(s); return nil }
		},
	}
}

// intColumn stores an integer field (or one of an integer type) as
// INTEGER.
func intColumn[T any, I ~int | ~int64](name string, field func(*T) *I) column[T] {
	return column[T]{
		name:  name,
		value: func(r *T) any { return int64(*field(r)) },
		dest: func(r *T) (any, func() error) {
			var n int64
			return &n, func() error { *field(r) = I(n); return nil }
		},
	}
}

// positiveIntColumn stores an int field as INTEGER, 0 as NULL (for unique
// columns where "none yet" must not collide).
func positiveIntColumn[T any](name string, field func(*T) *int) column[T] {
	return column[T]{
		name: name,
		value: func(r *T) any {
			if n := *field(r); n > 0 {
				return int64(n)
			}
			return nil
		},
		dest: func(r *T) (any, func() error) {
			var n sql.NullInt64
			return &n, func() error { *field(r) = int(n.Int64); return nil }
		},
	}
}

// boolColumn stores a bool field as INTEGER 0 or 1.
func boolColumn[T any](name string, field func(*T) *bool) column[T] {
	return column[T]{
		name:  name,
		value: func(r *T) any { return *field(r) },
		dest:  func(r *T) (any, func() error) { return field(r), nil },
	}
}

// optionalBoolColumn stores a *bool field as INTEGER 0 or 1, nil as NULL
// (not known).
func optionalBoolColumn[T any](name string, field func(*T) **bool) column[T] {
	return column[T]{
		name: name,
		value: func(r *T) any {
			if b := *field(r); b != nil {
				return *b
			}
			return nil
		},
		dest: func(r *T) (any, func() error) {
			var b sql.NullBool
			return &b, func() error {
				if b.Valid {
					v := b.Bool
					*field(r) = &v
				}
				return nil
			}
		},
	}
}

// optionalTextColumn stores a string field as TEXT, "" as NULL (for
// foreign keys that a record may lack).
func optionalTextColumn[T any](name string, field func(*T) *string) column[T] {
	return column[T]{
		name: name,
		value: func(r *T) any {
			if s := *field(r); s != "" {
				return s
			}
			return nil
		},
		dest: func(r *T) (any, func() error) {
			var s sql.NullString
			return &s, func() error { *field(r) = s.String; return nil }
		},
	}
}

// jsonColumn stores a field as TEXT holding its JSON.
func jsonColumn[T, V any](name string, field func(*T) *V) column[T] {
	return column[T]{
		name: name,
		value: func(r *T) any {
			b, err := json.Marshal(field(r))
			if err != nil {
				// The stored types are plain data (strings, numbers,
				// slices of them), which always encode.
				panic(fmt.Sprintf("sqlite: encode %s: %v", name, err))
			}
			return string(b)
		},
		dest: func(r *T) (any, func() error) {
			var s string
			return &s, func() error { return json.Unmarshal([]byte(s), field(r)) }
		},
	}
}

// derivedColumn stores a value computed from the record (an index key)
// that is not a field of its own: written, and read past.
func derivedColumn[T any](name string, value func(*T) any) column[T] {
	return column[T]{
		name:  name,
		value: value,
		dest: func(*T) (any, func() error) {
			var discard any
			return &discard, nil
		},
	}
}

// blobColumn stores a []byte field as a NOT NULL BLOB; empty reads back
// as nil.
func blobColumn[T any](name string, field func(*T) *[]byte) column[T] {
	return column[T]{
		name:  name,
		value: func(r *T) any { return nonNil(*field(r)) },
		dest: func(r *T) (any, func() error) {
			var b []byte
			return &b, func() error {
				if len(b) > 0 {
					*field(r) = b
				}
				return nil
			}
		},
	}
}

// optionalBlobColumn stores a byte-slice field as a BLOB, and an empty one
// as NULL; both read back as nil.
func optionalBlobColumn[T any](name string, field func(*T) *[]byte) column[T] {
	c := blobColumn(name, field)
	c.value = func(r *T) any { return blobOrNull(*field(r)) }
	return c
}

// timeColumn stores a time field as TEXT in timeLayout (UTC).
func timeColumn[T any](name string, field func(*T) *time.Time) column[T] {
	return column[T]{
		name:  name,
		value: func(r *T) any { return formatTime(*field(r)) },
		dest: func(r *T) (any, func() error) {
			var s string
			return &s, func() (err error) { *field(r), err = parseTime(s); return err }
		},
	}
}

// optionalTimeColumn stores a *time.Time field as TEXT in timeLayout, nil
// as NULL.
func optionalTimeColumn[T any](name string, field func(*T) **time.Time) column[T] {
	return column[T]{
		name: name,
		value: func(r *T) any {
			if t := *field(r); t != nil {
				return formatTime(*t)
			}
			return nil
		},
		dest: func(r *T) (any, func() error) {
			var s sql.NullString
			return &s, func() error {
				if !s.Valid {
					return nil
				}
				t, err := parseTime(s.String)
				*field(r) = &t
				return err
			}
		},
	}
}
