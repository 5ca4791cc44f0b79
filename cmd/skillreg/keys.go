package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
)

func cmdKeys(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: skillreg keys rotate|list [--data DIR]")
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	var d dataFlags
	d.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	e, err := openEnv(ctx, d, false)
	if err != nil {
		return err
	}
	defer e.Close()
	switch args[0] {
	case "rotate":
		k, err := e.auditedKeys(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})), cliActor()).Rotate(ctx, nowUTC())
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new active signing key %s; older keys still verify their certificates\n", k.ID)
	case "list":
		keys, err := e.store.SigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			state := "retired"
			if k.Active {
				state = "active"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", k.ID, k.Algorithm, state, k.CreatedAt.Format("2006-01-02T15:04:05Z"))
		}
	default:
		return fmt.Errorf("unknown keys command %q (rotate or list)", args[0])
	}
	return nil
}
