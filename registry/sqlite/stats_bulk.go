package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/skillreg/skillreg/registry"
)

// ImportCertificates stores certificates with the numbers they carry, in
// one transaction, for bulk loads (`skillreg demo`) and copies from
// another store (`skillreg migrate`). A certificate whose number is
// already stored is skipped if it is the same, revoked if the offered one
// shows it revoked since (registry.RevokedSince), and is ECONFLICT if it
// differs otherwise (then nothing of the batch is written), so an
// interrupted copy can be run again. It returns how many it stored. Serials are not
// touched: call ImportSerials afterwards, so that the serial counter of a
// prefix never runs ahead of its certificates. The MongoDB store has the
// same method.
func (s *Store) ImportCertificates(ctx context.Context, list []*registry.Certificate) (int, error) {
	stored := 0
	err := s.inTx(ctx, "import certificates", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, insertCertificate+` ON CONFLICT (number) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range list {
			res, err := stmt.ExecContext(ctx, certificateValues(c)...)
			if err != nil {
				if isUnique(err) && strings.Contains(err.Error(), "status_index") {
					return registry.Errorf(registry.ECONFLICT, "status-list index %d of certificate %s is taken", c.StatusIndex, c.Number)
				}
				if isUnique(err) {
					return registry.Errorf(registry.ECONFLICT, "certificate %s: the target holds another certificate with its external_ref", c.Number)
				}
				if isForeignKey(err) {
					return registry.Errorf(registry.ECONFLICT, "certificate %s: its issuer %s is not stored (import issuers first)", c.Number, c.IssuerID)
				}
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 1 {
				stored++
				continue
			}
			got, err := scanCertificate(tx.QueryRowContext(ctx, `SELECT `+certificateColumns+` FROM certificates WHERE number = ?`, c.Number))
			if err != nil {
				return err
			}
			switch want := asStored(c); {
			case reflect.DeepEqual(got, want):
			case registry.RevokedSince(got, want):
				if _, err := tx.ExecContext(ctx, `UPDATE certificates SET status = ?, revoked_at = ?, revoke_reason = ? WHERE number = ? AND status = ?`,
					registry.StatusRevoked, formatTime(*want.RevokedAt), want.RevokeReason, c.Number, registry.StatusValid); err != nil {
					return err
				}
			default:
				return registry.Errorf(registry.ECONFLICT, "certificate %s: the target holds a different certificate under this number", c.Number)
			}
		}
		return nil
	})
	if err != nil {
		if registry.ErrorCode(err) == registry.ECONFLICT {
			return 0, registry.Errorf(registry.ECONFLICT, "%s", registry.ErrorMessage(err))
		}
		return 0, err
	}
	return stored, nil
}

// asStored returns c as the store reads it back: times in UTC, an empty
// cipher as nil.
func asStored(c *registry.Certificate) *registry.Certificate {
	out := *c
	out.CreatedAt = out.CreatedAt.UTC()
	if out.RevokedAt != nil {
		t := out.RevokedAt.UTC()
		out.RevokedAt = &t
	}
	if len(out.HolderIDCipher) == 0 {
		out.HolderIDCipher = nil
	}
	return &out
}

// ImportSerials raises the serial counter of every prefix to at least the
// given value; it never lowers one.
func (s *Store) ImportSerials(ctx context.Context, serials map[string]int) error {
	return s.inTx(ctx, "import serials", func(tx *sql.Tx) error {
		for prefix, last := range serials {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO serials (prefix, last) VALUES (?, ?)
				ON CONFLICT (prefix) DO UPDATE SET last = max(last, excluded.last)`, prefix, last); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkLoad runs load with the write connection tuned for filling the
// database in one go (`skillreg demo`), and restores the normal settings
// afterwards, whether load failed or not:
//
//   - synchronous=OFF: commits are not flushed to disk. A crash of the
//     process still leaves a consistent database (WAL), but a crash of the
//     machine may lose or corrupt the load; the caller must treat a load
//     that did not return as lost.
//
//   - a page cache of bulkCacheMiB on the write connection, so that the
//     random-order index inserts of a large load do not spill dirty pages
//     to the WAL and read them back, transaction after transaction.
//
//   - if the certificates table is empty, its secondary indexes that no
//     load step reads (listings by date and issuer, the status-list
//     indexes) are dropped and built again, sorted, at the end; building
//     the unique index also checks that the loaded status-list indexes are
//     distinct. The index by holder stays: the counters read it.
//
//   - if no statistics op or marker is stored, the ops, markers and
//     counter deltas of the load's statistics steps are kept in memory
//     (bulkJournal) and written once, summed, at the end; the counters
//     read during the load do not show them yet.
//
// At the end the WAL is checkpointed into the database file and the file
// is flushed, so that the load is on disk when BulkLoad returns nil.
func (s *Store) BulkLoad(ctx context.Context, load func() error) (err error) {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return internal(err, "bulk load: connection")
	}
	var empty bool
	if err := conn.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM certificates)`).Scan(&empty); err != nil {
		conn.Close()
		return internal(err, "bulk load")
	}
	var later []string // CREATE INDEX statements to run at the end
	if empty {
		rows, err := conn.QueryContext(ctx, `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'certificates' AND sql IS NOT NULL`)
		if err != nil {
			conn.Close()
			return internal(err, "bulk load: list indexes")
		}
		var names []string
		for rows.Next() {
			var name, def string
			if err := rows.Scan(&name, &def); err != nil {
				rows.Close()
				conn.Close()
				return internal(err, "bulk load: list indexes")
			}
			if bulkLateIndexes[name] {
				names = append(names, name)
				later = append(later, def)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			conn.Close()
			return internal(err, "bulk load: list indexes")
		}
		for _, name := range names {
			if _, err := conn.ExecContext(ctx, `DROP INDEX `+name); err != nil {
				conn.Close()
				return internal(err, "bulk load: drop index %s", name)
			}
		}
	}
	for _, p := range []string{`PRAGMA synchronous = OFF`, fmt.Sprintf(`PRAGMA cache_size = %d`, -bulkCacheMiB*1024)} {
		if _, err := conn.ExecContext(ctx, p); err != nil {
			conn.Close()
			return internal(err, "bulk load: %s", p)
		}
	}
	// The statistics journal moves to memory if its tables are empty.
	var journaled bool
	if err := conn.QueryRowContext(ctx, `SELECT NOT EXISTS (SELECT 1 FROM stats_ops) AND NOT EXISTS (SELECT 1 FROM stats_pending)`).Scan(&journaled); err != nil {
		conn.Close()
		return internal(err, "bulk load")
	}
	j := newBulkJournal()
	if journaled {
		s.journal.Store(j)
	}
	// The connection goes back to the pool (the pool's only one, so the
	// load's writes run on it) with the bulk settings; the statistics
	// transactions leave synchronous alone while s.bulk is set.
	s.bulk.Store(true)
	conn.Close()

	loadErr := load()

	end := context.WithoutCancel(ctx)
	var errs []error
	if journaled {
		s.journal.Store(nil)
		if err := s.flushJournal(end, j); err != nil {
			errs = append(errs, err)
		}
	}
	s.bulk.Store(false)
	conn, err = s.write.Conn(end)
	if err != nil {
		return errors.Join(loadErr, internal(err, "bulk load: connection"))
	}
	defer conn.Close()
	// Every index is built that can be, and the settings are restored,
	// whatever failed before.
	if _, err := conn.ExecContext(end, `PRAGMA cache_size = -2000`); err != nil {
		errs = append(errs, internal(err, "bulk load: cache size"))
	}
	for _, def := range later {
		_, err := conn.ExecContext(end, def)
		switch {
		case err == nil, loadErr != nil:
			// After a failed load an error here says nothing new.
		case isUnique(err):
			errs = append(errs, registry.Errorf(registry.ECONFLICT, "bulk load: the loaded certificates share a status-list index"))
		default:
			errs = append(errs, internal(err, "bulk load: build index"))
		}
	}
	for _, p := range []string{`PRAGMA synchronous = FULL`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := conn.ExecContext(end, p); err != nil {
			// A connection that may keep the bulk settings must not
			// serve other writes.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			errs = append(errs, internal(err, "bulk load: %s", p))
			break
		}
	}
	if loadErr != nil {
		return loadErr
	}
	return errors.Join(errs...)
}

// bulkCacheMiB is the write connection's page cache during BulkLoad.
const bulkCacheMiB = 16

// bulkLateIndexes are the certificates indexes BulkLoad builds after the
// load instead of row by row.
var bulkLateIndexes = map[string]bool{
	"certificates_issuer_created":       true,
	"certificates_created":              true,
	"certificates_status_index":         true,
	"certificates_revoked_status_index": true,
}
