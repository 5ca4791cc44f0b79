// Command mongowire is a MongoDB-wire test server for CI: FerretDB v1
// embedded with its SQLite handler, so that the contract suite and the
// multi-process tests of skillreg can run against the official MongoDB
// driver on machines where no mongod can be installed.
//
// It lives in its own Go module so that the product's go.mod does not carry
// FerretDB's hundred-odd dependencies. It is a check of wire compatibility,
// not a database to run the registry on: FerretDB v1 scans whole
// collections instead of using indexes.
//
//	mongowire --listen 127.0.0.1:27017 --dir /tmp/mongowire-data
//
// Once it accepts connections it prints one line, "ready <mongodb-uri>", on
// stdout; it stops on SIGTERM or SIGINT.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mongowire:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("mongowire", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:27017", "TCP address to listen on (port 0 picks a free one)")
	dir := fs.String("dir", "", "directory of FerretDB's SQLite files (required; created if missing)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("--dir is required")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return err
	}

	// Error level only: at its default level FerretDB logs every error
	// reply (such as the duplicate keys the tests provoke on purpose) at
	// WARN with a full wire dump.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/", // a directory URL: it must end in a slash
		Logger:    logger,
	})
	if err != nil {
		return err
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	// MongoDBURI blocks until the listener is bound; if binding fails, Run
	// returns first and we never print "ready".
	ready := make(chan string, 1)
	go func() { ready <- f.MongoDBURI() }()
	select {
	case uri := <-ready:
		fmt.Printf("ready %s\n", uri)
	case err := <-done:
		if err == nil {
			err = errors.New("FerretDB stopped before it was listening")
		}
		return err
	}
	return <-done
}
