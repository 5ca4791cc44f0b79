package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"

	"modernc.org/sqlite"
)

// errRawClosed is what a rawReader answers after close.
var errRawClosed = errors.New("sqlite: store closed")

// rawReader runs one single-row, single-column query on driver
// connections of its own, outside database/sql: the verification read,
// the one query every scan of a certificate makes. Through database/sql
// the same read cost 40 % more CPU and twice the allocations (the
// statement's per-connection lookup, the Rows and its locks, the scan's
// conversion; BenchmarkCertificateLookup). Its connections are opened
// with the DSN it is given (the store's: read-only, memory-mapped) and
// keep the query prepared. A connection that fails a query is closed,
// not reused.
type rawReader struct {
	dsn   string
	query string
	idle  chan *rawConn // connections not in use
	slots chan struct{} // one per open connection, at most cap
	mu    sync.Mutex    // orders put's return to idle before or after close
	done  chan struct{} // closed by close
	once  sync.Once
}

type rawConn struct {
	conn  driver.Conn
	stmt  driver.Stmt
	query driver.StmtQueryContext
	args  [1]driver.NamedValue
	dest  [1]driver.Value
}

func newRawReader(dsn, query string, conns int) *rawReader {
	return &rawReader{
		dsn:   dsn,
		query: query,
		idle:  make(chan *rawConn, conns),
		slots: make(chan struct{}, conns),
		done:  make(chan struct{}),
	}
}

// text runs the query with arg and returns its one value, which must be
// text. ok is false when the query returns no row.
func (r *rawReader) text(arg string) (v string, ok bool, err error) {
	c, err := r.get()
	if err != nil {
		return "", false, err
	}
	v, ok, err = c.text(arg)
	r.put(c, err == nil)
	return v, ok, err
}

func (c *rawConn) text(arg string) (string, bool, error) {
	c.args[0] = driver.NamedValue{Ordinal: 1, Value: arg}
	// An uncancellable context: the driver starts no watcher for it.
	rows, err := c.query.QueryContext(context.Background(), c.args[:])
	c.args[0].Value = nil
	if err != nil {
		return "", false, err
	}
	err = rows.Next(c.dest[:])
	v := c.dest[0]
	c.dest[0] = nil
	cerr := rows.Close()
	switch {
	case err == io.EOF && cerr == nil:
		return "", false, nil
	case err == io.EOF:
		return "", false, cerr
	case err != nil:
		return "", false, err
	case cerr != nil:
		return "", false, cerr
	}
	s, isText := v.(string)
	if !isText {
		return "", false, fmt.Errorf("sqlite: the value is %T, not text", v)
	}
	return s, true, nil
}

// get returns an idle connection, or opens one while fewer than the
// limit are open, or waits for one to be put back.
func (r *rawReader) get() (*rawConn, error) {
	select {
	case c := <-r.idle:
		return c, nil
	default:
	}
	select {
	case c := <-r.idle:
		return c, nil
	case r.slots <- struct{}{}:
		c, err := r.open()
		if err != nil {
			<-r.slots
			return nil, err
		}
		return c, nil
	case <-r.done:
		return nil, errRawClosed
	}
}

func (r *rawReader) open() (*rawConn, error) {
	select {
	case <-r.done:
		return nil, errRawClosed
	default:
	}
	conn, err := (&sqlite.Driver{}).Open(r.dsn)
	if err != nil {
		return nil, err
	}
	st, err := conn.(driver.ConnPrepareContext).PrepareContext(context.Background(), r.query)
	if err != nil {
		conn.Close()
		return nil, err
	}
	q, ok := st.(driver.StmtQueryContext)
	if !ok {
		st.Close()
		conn.Close()
		return nil, errors.New("sqlite: the driver's statement has no QueryContext")
	}
	return &rawConn{conn: conn, stmt: st, query: q}, nil
}

// put gives c back to the idle connections if it is good and the reader
// is open, else closes it.
func (r *rawReader) put(c *rawConn, good bool) {
	if good {
		r.mu.Lock()
		select {
		case <-r.done:
		default:
			r.idle <- c // never blocks: at most cap connections exist
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
	c.close()
	<-r.slots
}

func (c *rawConn) close() {
	c.stmt.Close()
	c.conn.Close()
}

// close closes the idle connections, and those in use as they are put
// back; get fails after it.
func (r *rawReader) close() {
	r.once.Do(func() {
		r.mu.Lock()
		close(r.done)
		r.mu.Unlock()
		for {
			select {
			case c := <-r.idle:
				c.close()
				<-r.slots
			default:
				return
			}
		}
	})
}
