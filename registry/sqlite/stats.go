package sqlite

// The statistics counters. The SQLite store runs the same
// single-step protocol as the MongoDB store (registry/stats/sync.go), one
// small transaction per primitive, so that there is one code path to test
// and to reason about. An apply of deltas is one transaction, so the
// pending lists of all counters it moves are one row per marker in
// stats_pending: the marker is there exactly when all its deltas are.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/registry/stats"
)

// addToCell adds n to a counter cell, creating it at n.
const addToCell = `INSERT INTO stats_cells (id, kind, province, category, channel, level, year, n) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET n = n + excluded.n`

// StatsCells returns the non-zero counters of one rollup.
func (s *Store) StatsCells(ctx context.Context, f stats.CellFilter) ([]stats.Cell, error) {
	q, args := statsCellsQuery(f)
	return s.queryCells(ctx, q, args...)
}

// statsCellsQuery is the query of StatsCells. Every rollup it reads is a
// range of one of the two indexes: (category, channel, province, year)
// for the years of one rollup, (category, channel, year, province) for
// every province in the all-years rollup; the query-plan test holds it
// to that.
func statsCellsQuery(f stats.CellFilter) (string, []any) {
	q := `SELECT kind, province, category, channel, level, year, n FROM stats_cells WHERE category = ? AND channel = ? AND n <> 0 AND `
	args := []any{f.Category, f.Channel}
	if f.Years {
		q += `year > 0 AND `
	} else {
		q += `year = 0 AND `
	}
	if f.PerProvince {
		q += `province <> ?`
		args = append(args, stats.CellAll)
	} else {
		q += `province = ?`
		args = append(args, f.Province)
	}
	return q, args
}

// AllStatsCells returns every non-zero counter, in ID order.
func (s *Store) AllStatsCells(ctx context.Context) ([]stats.Cell, error) {
	return s.queryCells(ctx, `SELECT kind, province, category, channel, level, year, n FROM stats_cells WHERE n <> 0 ORDER BY id`)
}

func (s *Store) queryCells(ctx context.Context, q string, args ...any) ([]stats.Cell, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal(err, "read counters")
	}
	defer rows.Close()
	var out []stats.Cell
	for rows.Next() {
		var c stats.Cell
		var level int
		if err := rows.Scan(&c.Kind, &c.Province, &c.Category, &c.Channel, &level, &c.Year, &c.N); err != nil {
			return nil, internal(err, "read counters")
		}
		c.Level = level
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "read counters")
	}
	return out, nil
}

// CreateStatsOps stores each op unless one with its ID is stored, all in
// one transaction, and reports per op whether it stored it.
func (s *Store) CreateStatsOps(ctx context.Context, ops []*stats.Op) ([]bool, error) {
	if j := s.journal.Load(); j != nil {
		return j.create(ops), nil
	}
	created := make([]bool, len(ops))
	err := s.inStatsTx(ctx, "store counter ops", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO stats_ops (id, created_at, body) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i, op := range ops {
			body, err := encodeOp(op)
			if err != nil {
				return err
			}
			res, err := stmt.ExecContext(ctx, op.ID, formatTime(op.CreatedAt), string(body))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			created[i] = n == 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// StatsOps returns every stored op, oldest first.
func (s *Store) StatsOps(ctx context.Context) ([]*stats.Op, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT body FROM stats_ops ORDER BY created_at, id`)
	if err != nil {
		return nil, internal(err, "list counter ops")
	}
	defer rows.Close()
	var out []*stats.Op
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, internal(err, "list counter ops")
		}
		op, err := decodeOp(body)
		if err != nil {
			return nil, internal(err, "decode counter op")
		}
		out = append(out, op)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list counter ops")
	}
	if j := s.journal.Load(); j != nil {
		out = j.list(out)
	}
	return out, nil
}

// DeleteStatsOps deletes the ops with the given IDs.
func (s *Store) DeleteStatsOps(ctx context.Context, ids []string) error {
	if j := s.journal.Load(); j != nil {
		if ids = j.remove(ids); len(ids) == 0 {
			return nil
		}
	}
	return s.inStatsTx(ctx, "delete counter ops", func(tx *sql.Tx) error {
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `DELETE FROM stats_ops WHERE id = ?`, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ApplyStatsDeltas adds the deltas to their counters in one transaction
// that also records the marker; if the marker is recorded already, the
// deltas were applied and nothing changes.
func (s *Store) ApplyStatsDeltas(ctx context.Context, marker string, deltas []stats.Delta) error {
	if j := s.journal.Load(); j != nil {
		return j.apply(marker, deltas)
	}
	return s.inStatsTx(ctx, "apply counter deltas", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO stats_pending (marker) VALUES (?) ON CONFLICT DO NOTHING`, marker)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err // applied before under this marker (or the error)
		}
		add, err := tx.PrepareContext(ctx, addToCell)
		if err != nil {
			return err
		}
		defer add.Close()
		for _, d := range deltas {
			c, err := stats.ParseCellID(d.Cell)
			if err != nil {
				return err
			}
			if _, err := add.ExecContext(ctx, d.Cell, c.Kind, c.Province, c.Category, c.Channel, int(c.Level), c.Year, d.N); err != nil {
				return err
			}
		}
		return nil
	})
}

// StatsPendingMarkers returns every marker a pending list holds.
func (s *Store) StatsPendingMarkers(ctx context.Context) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT marker FROM stats_pending ORDER BY marker`)
	if err != nil {
		return nil, internal(err, "list pending markers")
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return nil, internal(err, "list pending markers")
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list pending markers")
	}
	if j := s.journal.Load(); j != nil {
		out = j.markers(out)
	}
	return out, nil
}

// ReleaseStatsMarker removes marker from every pending list.
func (s *Store) ReleaseStatsMarker(ctx context.Context, marker string) error {
	if j := s.journal.Load(); j != nil && j.release(marker) {
		return nil
	}
	return s.inStatsTx(ctx, "release a counter marker", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM stats_pending WHERE marker = ?`, marker)
		return err
	})
}

// StatsHolders returns the counted state of each holder, in the order
// asked; a holder never counted has Version 0.
func (s *Store) StatsHolders(ctx context.Context, hashes []string) ([]*stats.Holder, error) {
	found := make(map[string]*stats.Holder, len(hashes))
	for start := 0; start < len(hashes); start += 500 {
		chunk := hashes[start:min(start+500, len(hashes))]
		args := make([]any, len(chunk))
		for i, h := range chunk {
			args[i] = h
		}
		list, err := s.queryHolders(ctx, `SELECT `+columnNames(holderTable)+` FROM stats_holders WHERE hash IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, h := range list {
			found[h.Hash] = h
		}
	}
	return stats.HoldersInOrder(hashes, found), nil
}

// StatsHoldersAfter returns up to limit holder states whose hashes sort
// after the given one, in hash order.
func (s *Store) StatsHoldersAfter(ctx context.Context, after string, limit int) ([]*stats.Holder, error) {
	return s.queryHolders(ctx, `SELECT `+columnNames(holderTable)+` FROM stats_holders WHERE hash > ? ORDER BY hash LIMIT ?`, after, limit)
}

func (s *Store) queryHolders(ctx context.Context, q string, args ...any) ([]*stats.Holder, error) {
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, internal(err, "read holder states")
	}
	defer rows.Close()
	var out []*stats.Holder
	for rows.Next() {
		r, err := scanColumns(holderTable, rows)
		if err != nil {
			return nil, internal(err, "read holder states")
		}
		out = append(out, r.holder())
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "read holder states")
	}
	return out, nil
}

// SetStatsHolders stores each state whose stored version is its
// Version-1 (absent counts as 0) and skips the others.
func (s *Store) SetStatsHolders(ctx context.Context, hs []*stats.Holder) error {
	return s.inStatsTx(ctx, "store holder states", func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, `INSERT INTO stats_holders (`+columnNames(holderTable)+`) VALUES (`+placeholders(holderTable)+`) ON CONFLICT (hash) DO NOTHING`)
		if err != nil {
			return err
		}
		defer ins.Close()
		upd, err := tx.PrepareContext(ctx, `UPDATE stats_holders SET version = ?, certs = ? WHERE hash = ? AND version = ?`)
		if err != nil {
			return err
		}
		defer upd.Close()
		for _, h := range hs {
			r := toHolderRow(h)
			var err error
			if h.Version == 1 {
				_, err = ins.ExecContext(ctx, columnValues(holderTable, &r)...)
			} else {
				_, err = upd.ExecContext(ctx, h.Version, holderCertsColumn.value(&r), h.Hash, h.Version-1)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// CertificatesInHolderOrder returns up to limit certificates of the
// holders whose hashes sort after the given one, ordered by hash (on the
// certificates_holder index); the last holder may be cut off.
func (s *Store) CertificatesInHolderOrder(ctx context.Context, after string, limit int) ([]*registry.Certificate, error) {
	list, err := queryCertificates(ctx, s.read,
		`SELECT `+certificateColumns+` FROM certificates WHERE holder_id_hash > ? ORDER BY holder_id_hash LIMIT ?`, after, limit)
	if err != nil {
		return nil, internal(err, "list certificates by holder")
	}
	return list, nil
}

// PutStatsMarks stores each mark, replacing a mark with its ID, in one
// transaction.
func (s *Store) PutStatsMarks(ctx context.Context, ms ...*stats.Mark) error {
	if len(ms) == 0 {
		return nil
	}
	return s.inStatsTx(ctx, "store counter marks", func(tx *sql.Tx) error {
		for _, m := range ms {
			_, err := tx.ExecContext(ctx, `
			INSERT INTO stats_marks (`+columnNames(markTable)+`) VALUES (`+placeholders(markTable)+`)
			ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, at = excluded.at, done = excluded.done, done_at = excluded.done_at`,
				columnValues(markTable, m)...)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// StatsMarks returns the marks that are not done, or were made or done at
// or after since.
func (s *Store) StatsMarks(ctx context.Context, since time.Time) ([]*stats.Mark, error) {
	rows, err := s.read.QueryContext(ctx, `
		SELECT `+columnNames(markTable)+` FROM stats_marks WHERE done = 0 OR at >= ? OR done_at >= ? ORDER BY at, id`,
		formatTime(since), formatTime(since))
	if err != nil {
		return nil, internal(err, "list counter marks")
	}
	defer rows.Close()
	var out []*stats.Mark
	for rows.Next() {
		m, err := scanColumns(markTable, rows)
		if err != nil {
			return nil, internal(err, "list counter marks")
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list counter marks")
	}
	return out, nil
}

// DeleteStatsMarks deletes the done marks made before the given time.
func (s *Store) DeleteStatsMarks(ctx context.Context, before time.Time) error {
	return s.inStatsTx(ctx, "delete old counter marks", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM stats_marks WHERE done = 1 AND at < ?`, formatTime(before))
		return err
	})
}

// CreatePlan stores a plan. ECONFLICT if its ID is taken.
func (s *Store) CreatePlan(ctx context.Context, p *stats.Plan) error {
	body, err := encodePlan(p)
	if err != nil {
		return internal(err, "encode plan %s", p.ID)
	}
	err = s.inTx(ctx, "store plan "+p.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO stats_plans (id, created_at, body) VALUES (?, ?, ?)`, p.ID, formatTime(p.CreatedAt), string(body))
		return err
	})
	if isUnique(err) {
		return registry.Errorf(registry.ECONFLICT, "there is already a plan %s", p.ID)
	}
	return err
}

// Plans returns the stored plans by ID.
func (s *Store) Plans(ctx context.Context) ([]*stats.Plan, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT body FROM stats_plans ORDER BY id`)
	if err != nil {
		return nil, internal(err, "list plans")
	}
	defer rows.Close()
	var out []*stats.Plan
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, internal(err, "list plans")
		}
		p, err := decodePlan(body)
		if err != nil {
			return nil, internal(err, "decode plan")
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "list plans")
	}
	return out, nil
}

// UpdatePlan replaces the stored plan with p's ID (its name, end date,
// targets and default mark; the creation time stays). ENOTFOUND if there
// is none.
func (s *Store) UpdatePlan(ctx context.Context, p *stats.Plan) error {
	body, err := encodePlan(p)
	if err != nil {
		return internal(err, "encode plan %s", p.ID)
	}
	return s.inTx(ctx, "update plan "+p.ID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE stats_plans SET body = json_set(?, '$.created_at', json_extract(body, '$.created_at')) WHERE id = ?`, string(body), p.ID)
		return planChanged(res, err, p.ID)
	})
}

// DeletePlan deletes the stored plan with the ID. ENOTFOUND if there is
// none.
func (s *Store) DeletePlan(ctx context.Context, id string) error {
	return s.inTx(ctx, "delete plan "+id, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM stats_plans WHERE id = ?`, id)
		return planChanged(res, err, id)
	})
}

// SetDefaultPlan marks the stored plan with the ID as the default and
// every other stored plan as not, in one transaction; "" unmarks them all.
// ENOTFOUND if there is no stored plan with a non-empty ID.
func (s *Store) SetDefaultPlan(ctx context.Context, id string) error {
	return s.inTx(ctx, "set default plan "+id, func(tx *sql.Tx) error {
		if id != "" {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM stats_plans WHERE id = ?`, id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return registry.Errorf(registry.ENOTFOUND, "no plan %s", id)
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE stats_plans SET body = json_set(body, '$.default', json(CASE WHEN id = ? THEN 'true' ELSE 'false' END))`, id)
		return err
	})
}

// planChanged turns the result of a write to one plan into ENOTFOUND when
// it touched no row.
func planChanged(res sql.Result, err error, id string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return registry.Errorf(registry.ENOTFOUND, "no plan %s", id)
	}
	return nil
}

// inStatsTx is inTx for the statistics steps, committed with
// synchronous=NORMAL instead of FULL, as the audit append is (audit.go).
// In WAL mode a NORMAL commit survives any crash of the process; only a
// power cut or kernel crash can lose it, and then only back to the last
// FULL commit, which syncs the whole WAL, earlier frames included. That
// keeps the steps exact: the mark is written before its certificate, so
// the certificate's FULL commit makes the mark durable with it, and every
// later step that a power cut loses is redone by recovery, which finishes
// each mark not done (the steps are idempotent). It saves an fsync per
// step: six per issuance.
func (s *Store) inStatsTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	return s.withNormalSync(ctx, what, func(conn *sql.Conn) error {
		return commitTx(ctx, what, conn.BeginTx, fn)
	})
}

// withNormalSync runs fn on the write connection switched to
// synchronous=NORMAL, and switches it back to FULL afterwards, whatever
// fn did: the write connection must never stay at NORMAL, because
// certificates rely on FULL. If it cannot be set back, the connection is
// discarded.
func (s *Store) withNormalSync(ctx context.Context, what string, fn func(conn *sql.Conn) error) error {
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return internal(err, "%s: connection", what)
	}
	defer conn.Close()
	if s.bulk.Load() {
		return fn(conn) // BulkLoad has set synchronous=OFF and restores FULL
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return internal(err, "%s: synchronous", what)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn(conn)
}

// inTx runs fn in one write transaction and commits it; any error is
// wrapped with what the store was doing.
func (s *Store) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	return commitTx(ctx, what, s.write.BeginTx, fn)
}

// commitTx begins a transaction with begin, runs fn in it and commits it;
// any error is wrapped with what the store was doing.
func commitTx(ctx context.Context, what string, begin func(context.Context, *sql.TxOptions) (*sql.Tx, error), fn func(tx *sql.Tx) error) error {
	tx, err := begin(ctx, nil)
	if err != nil {
		return internal(err, "%s", what)
	}
	defer rollback(tx)
	if err := fn(tx); err != nil {
		return internal(err, "%s", what)
	}
	if err := tx.Commit(); err != nil {
		return internal(err, "%s: commit", what)
	}
	return nil
}
