package sqlite

import (
	"context"
	"testing"
)

// TestReadPoolMapsFile: every read connection has the file mapped
// (ReadMmapSize), the write connection has not, and the common pragmas
// still reach the read connections.
func TestReadPoolMapsFile(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	// Hold several read connections at once, so that more than the first
	// one is asked.
	conns := make([]interface{ Close() error }, 0, 3)
	for range 3 {
		c, err := s.read.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var mmap, fk int64
		var journal string
		if err := c.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if mmap != ReadMmapSize || fk != 1 || journal != "wal" {
			t.Errorf("read connection: mmap_size %d, foreign_keys %d, journal_mode %s; want %d, 1, wal", mmap, fk, journal, ReadMmapSize)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	var mmap int64
	if err := s.write.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&mmap); err != nil {
		t.Fatal(err)
	}
	if mmap != 0 {
		t.Errorf("write connection: mmap_size %d, want 0", mmap)
	}
}
