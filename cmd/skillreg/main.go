// Command skillreg is the skill-certificate registry: one binary, many
// subcommands.
//
//	skillreg serve            run the service (embedded SQLite by default)
//	skillreg keys rotate      make a new certificate-signing key active
//	skillreg keys list        list signing keys
//	skillreg backup FILE      online copy of the embedded store, verified
//	skillreg verify [--jwks FILE|URL] TOKEN|URL|PNG   check a certificate offline
//	skillreg migrate --from DIR|URI --to DIR|URI   copy one store into another
//	skillreg import FILE --server URL --token T   issue a spreadsheet of certificates
//	skillreg trust-bundle --server URL -o FILE    download the signed trust bundle
//	skillreg audit verify|checkpoint|reconcile     the tamper-evident audit log
//	skillreg stats check [--repair]   recompute the statistics counters and compare
//	skillreg demo --certificates N    fill the store with a synthetic population
//	skillreg samples                  write sample spreadsheets to import
//	skillreg users reset-password U   give a user a new password
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `skillreg: a registry of vocational skill certificates

Usage:
  skillreg serve [flags]                 run the HTTP service
  skillreg keys rotate [--data DIR]      make a new certificate-signing key active
  skillreg keys list [--data DIR]        list the signing keys
  skillreg backup [--data DIR] FILE      online backup of the embedded store, verified by opening it
  skillreg verify [--jwks FILE|URL] [--data DIR] TOKEN|VERIFY-URL|QR.png
                                         check a certificate's signature offline
  skillreg migrate --from DIR|mongodb://HOST/DB --to DIR|mongodb://HOST/DB
                                         copy one store into another, either way (resumable)
  skillreg import FILE --server URL --token T [--dry-run] [--all-or-nothing] [--report OUT.xlsx]
                                         issue a spreadsheet of certificates (.xlsx or .csv)
  skillreg verify --offline --bundle FILE --trust JWKS TOKEN|VERIFY-URL|QR.png
                                         check signature, issuer scope and revocation with no network
  skillreg trust-bundle --server URL -o FILE [--trust JWKS]
                                         download the registry's signed trust bundle
  skillreg audit verify|checkpoint|reconcile [--data DIR]
                                         re-walk the hash-chained audit log and its signed
                                         checkpoints; sign a checkpoint now; append entries a
                                         crash left out (marked recovered)
  skillreg stats check [--repair] [--data DIR]
                                         recompute the statistics counters from the certificates
  skillreg demo --certificates N [--seed S] [--data DIR]
                                         fill the store with a synthetic population (for the dashboard)
  skillreg samples [--dir DIR]           write class.xlsx and trainees.xlsx, sample files to import
  skillreg users reset-password [--data DIR] USERNAME
                                         give a user a new password (SKILLREG_NEW_PASSWORD, or generated)
Every command that opens the registry takes --mongo-uri URI (env SKILLREG_MONGO_URI)
to use MongoDB instead of the embedded store.
Run "skillreg <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = cmdServe(ctx, args[1:], stderr)
	case "keys":
		err = cmdKeys(ctx, args[1:], stdout)
	case "verify":
		return cmdVerify(ctx, args[1:], stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = cmdMigrate(ctx, args[1:], stdout, stderr)
	case "import":
		return cmdImport(ctx, args[1:], stdout, stderr)
	case "trust-bundle":
		err = cmdTrustBundle(ctx, args[1:], stdout, stderr)
	case "audit": // the tamper-evident audit log
		return cmdAudit(ctx, args[1:], stdout, stderr)
	case "stats": // check and repair the statistics counters
		err = cmdStats(ctx, args[1:], stdout, stderr)
	case "demo": // a synthetic population, for the statistics
		err = cmdDemo(ctx, args[1:], stdout, stderr)
	case "users":
		err = cmdUsers(ctx, args[1:], stdout, stderr)
	case "samples":
		err = cmdSamples(args[1:], stdout, stderr)
	case "tls-roots": // hidden: checks that the binary finds trusted TLS roots
		err = cmdTLSRoots(args[1:], stdout)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "skillreg: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "skillreg %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// envOr returns the environment variable's value, or def when it is unset.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
