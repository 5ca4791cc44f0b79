package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// testStall is the write-stall timeout of the serveOn tests: short, so
// that a handler or a client can outlast it many times over in a fraction
// of a second.
const testStall = 50 * time.Millisecond

// serveTest runs serveOn on ln with h and testStall (the other timeouts
// as serve's) until the test ends.
func serveTest(t *testing.T, ln net.Listener, h http.Handler) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	to := defaultTimeouts
	to.writeStall = testStall
	go func() { done <- serveOn(ctx, ln, h, slog.New(slog.DiscardHandler), to) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serveOn: %v", err)
			}
		case <-time.After(hangGuard):
			t.Errorf("serveOn still running %v after its context ended", hangGuard)
		}
	})
	return "http://" + ln.Addr().String()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestServeAnswersHandlersSlowerThanWriteStall: a handler that works for
// many times the write-stall timeout before it answers still gets its
// whole answer to the client, and so does a second such request on the
// same kept-alive connection. (With a server WriteTimeout of that length
// the client got no answer, only EOF.)
func TestServeAnswersHandlersSlowerThanWriteStall(t *testing.T) {
	t.Parallel()
	// Small enough for the socket buffers: the write never waits for the
	// client, so only the handler's time is on trial.
	body := bytes.Repeat([]byte("slow answer "), 100)
	base := serveTest(t, listen(t), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(5 * testStall) // a slow store, say
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
	client := &http.Client{Timeout: hangGuard}
	for i := 1; i <= 2; i++ {
		resp, err := client.Get(base + "/slow")
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("request %d: status %d, %d of %d bytes, %v", i, resp.StatusCode, len(got), len(body), err)
		}
		// Idle for longer than the stall too: the next request must not
		// meet a deadline left over from this one.
		time.Sleep(3 * testStall)
	}
}

// smallBuffers is a listener whose connections have small kernel send
// buffers, so that a response a client does not read blocks the writer
// after a few kilobytes instead of filling megabytes of buffer.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(8 << 10)
	}
	return c, err
}

// rawGet sends a GET over a fresh connection with a small receive buffer
// and returns the connection, the response read from it not at all.
func rawGet(t *testing.T, base, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.(*net.TCPConn).SetReadBuffer(8 << 10)
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path)
	return c
}

// deadlineRecorder is a response writer that logs, in order, each write
// deadline set on it (as "deadline") and the size of each write.
type deadlineRecorder struct {
	http.ResponseWriter
	log []string
}

func (d *deadlineRecorder) SetWriteDeadline(time.Time) error {
	d.log = append(d.log, "deadline")
	return nil
}

func (d *deadlineRecorder) Write(p []byte) (int, error) {
	d.log = append(d.log, fmt.Sprint(len(p)))
	return len(p), nil
}

// TestStallWriterMovesDeadlineWithEachPiece: one large write reaches the
// connection in pieces of at most stallChunk, each under a deadline set
// just before it, so that a slow client that keeps reading is not cut off
// by a deadline that covers the whole response.
func TestStallWriterMovesDeadlineWithEachPiece(t *testing.T) {
	t.Parallel()
	rec := &deadlineRecorder{ResponseWriter: nil}
	w := &stallWriter{ResponseWriter: rec, rc: http.NewResponseController(rec), stall: time.Minute}
	n, err := w.Write(make([]byte, 2*stallChunk+100))
	want := []string{"deadline", fmt.Sprint(stallChunk), "deadline", fmt.Sprint(stallChunk), "deadline", "100"}
	if err != nil || n != 2*stallChunk+100 || strings.Join(rec.log, " ") != strings.Join(want, " ") {
		t.Fatalf("wrote %d, %v; calls %v, want %v", n, err, rec.log, want)
	}
}

// TestServeCutsStalledReader: a client that stops reading does not hold
// the handler forever: once a write has made no progress for the
// write-stall timeout it fails, and the handler can return.
func TestServeCutsStalledReader(t *testing.T) {
	t.Parallel()
	writeErr := make(chan error, 1)
	base := serveTest(t, smallBuffers{listen(t)}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		piece := bytes.Repeat([]byte("x"), 64<<10)
		for written := 0; written < 1<<30; written += len(piece) {
			if _, err := w.Write(piece); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- errors.New("wrote 1 GiB to a client that reads nothing")
	}))
	rawGet(t, base, "/endless") // and never read
	select {
	case err := <-writeErr:
		if ne, ok := errors.AsType[net.Error](err); !ok || !ne.Timeout() {
			t.Fatalf("the write to a stalled client ended with %v, want a timeout", err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("the write to a client that reads nothing was still blocked after %v", hangGuard)
	}
}
