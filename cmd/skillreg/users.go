package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/skillreg/skillreg/registry"
)

const usersUsage = `usage: skillreg users reset-password [--data DIR | --mongo-uri URI] USERNAME

Gives USERNAME a new password, straight in the registry (the server may keep running).
The new password is SKILLREG_NEW_PASSWORD; for the user admin, SKILLREG_ADMIN_PASSWORD
when SKILLREG_NEW_PASSWORD is unset; otherwise a generated one, printed once.
`

// cmdUsers runs `skillreg users reset-password USERNAME`: the way back in
// when the admin password is lost, or when SKILLREG_ADMIN_PASSWORD was set
// after the admin already existed.
func cmdUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "reset-password" {
		fmt.Fprint(stderr, usersUsage)
		return errors.New("unknown or missing subcommand")
	}
	fs := flag.NewFlagSet("users reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usersUsage); fs.PrintDefaults() }
	var d dataFlags
	d.register(fs)
	names, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(names) != 1 {
		fmt.Fprint(stderr, usersUsage)
		return errors.New("name one user")
	}
	username := names[0]
	pw, generated := os.Getenv("SKILLREG_NEW_PASSWORD"), false
	if pw == "" && username == "admin" {
		pw = os.Getenv("SKILLREG_ADMIN_PASSWORD")
	}
	if pw == "" {
		pw, generated = registry.GeneratePassword(), true
	}
	e, err := openEnv(ctx, d, false)
	if err != nil {
		return err
	}
	defer e.Close()
	reg := registry.New(registry.Config{Store: e.store, Vault: e.vault, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	actor := &registry.User{ID: "cli", Username: "cli", Role: registry.RoleAdmin}
	if err := reg.ResetPasswordByName(ctx, actor, username, pw); err != nil {
		return err
	}
	if generated {
		fmt.Fprintf(stdout, "The password of %q is now: %s\nIt is shown only this once.\n", username, pw)
		return nil
	}
	fmt.Fprintf(stdout, "The password of %q is now the one given.\n", username)
	return nil
}
