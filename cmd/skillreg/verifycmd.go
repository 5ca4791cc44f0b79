package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// cmdVerify checks a certificate's signature and claims with no registry
// lookup. Exit codes: 0 good signature, 1 forged or malformed, 2 usage or
// I/O error. With --offline it checks against a trust bundle instead
// (offline.go, which lists its exit codes).
func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var d dataFlags
	d.register(fs)
	var off offlineOptions
	off.register(fs)
	jwksFrom := fs.String("jwks", "", "public keys: a JWKS file, or an http(s) URL such as https://HOST/.well-known/jwks.json (default: the keys in --data)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: skillreg verify [--jwks FILE|URL] [--data DIR] TOKEN|VERIFY-URL|QR.png")
		fmt.Fprintln(stderr, "       skillreg verify --offline --bundle FILE --trust JWKS [--trust-on-first-use] TOKEN|VERIFY-URL|QR.png")
		return 2
	}
	input := fs.Arg(0)
	token, err := readToken(input)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg verify: %v\n", err)
		return 2
	}
	if off.offline {
		return verifyOffline(ctx, off, token, stdout, stderr)
	}
	keys, err := loadKeys(ctx, *jwksFrom, d)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg verify: %v\n", err)
		return 2
	}
	tokens, err := verify.NewStaticTokens(keys)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg verify: %v\n", err)
		return 2
	}
	claims, kid, err := tokens.Parse(ctx, token)
	var te *registry.TokenError
	if errors.As(err, &te) {
		fmt.Fprintf(stdout, "status: %s\nreason: %s\n", te.Status, te.Reason)
		return 1
	}
	if err != nil {
		fmt.Fprintf(stderr, "skillreg verify: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "status: signature valid (key %s)\nnumber: %s\nholder: %s\noccupation: %s\nlevel: %s\nissued on: %s\nissuer: %s\n",
		kid, claims.Number, claims.HolderMasked, claims.OccupationCode, claims.Level.Name(), claims.IssuedOn, claims.Number[:13])
	fmt.Fprintln(stdout, "note: offline check of the signature only; revocation is known only to the registry")
	return 0
}

// readToken accepts a token, a verify URL, or the path of a QR image.
func readToken(input string) (string, error) {
	lower := strings.ToLower(input)
	if strings.HasSuffix(lower, ".png") || strings.HasSuffix(lower, ".jpg") || strings.HasSuffix(lower, ".jpeg") {
		f, err := os.Open(input)
		if err != nil {
			return "", err
		}
		defer f.Close()
		text, err := verify.DecodeQR(f)
		if err != nil {
			return "", fmt.Errorf("%s: %w", input, err)
		}
		return verify.ExtractToken(text), nil
	}
	return verify.ExtractToken(input), nil
}

// loadKeys reads a JWKS from a file or URL, or the keys of a data directory.
func loadKeys(ctx context.Context, from string, d dataFlags) ([]verify.Key, error) {
	var b []byte
	switch {
	case strings.HasPrefix(from, "http://") || strings.HasPrefix(from, "https://"):
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, from, nil)
		if err != nil {
			return nil, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, fmt.Errorf("fetching JWKS: %w", err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("fetching JWKS: %s", resp.Status)
		}
		if b, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20)); err != nil {
			return nil, err
		}
	case from != "":
		var err error
		if b, err = os.ReadFile(from); err != nil {
			return nil, err
		}
	default:
		e, err := openEnv(ctx, d, false)
		if err != nil {
			return nil, fmt.Errorf("%v; or pass --jwks", err)
		}
		defer e.Close()
		return e.keys().PublicKeys(ctx)
	}
	return verify.ParseJWKS(b)
}
