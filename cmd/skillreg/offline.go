package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// Exit codes of `skillreg verify --offline`.
const (
	exitOfflineValid     = 0 // valid, and the bundle is within its time-to-live
	exitOfflineInvalid   = 1 // revoked, forged, malformed, unknown issuer or out of scope
	exitOfflineUsage     = 2 // usage or I/O error
	exitOfflineStale     = 3 // passes every check, but against a bundle past its time-to-live
	exitOfflineBadBundle = 4 // the bundle is not signed by a trusted key, altered, or unreadable
	exitOfflineNoStatus  = 5 // genuine and in scope, but its revocation cannot be checked offline
)

// offlineOptions are verify's flags for offline checks.
type offlineOptions struct {
	offline bool
	bundle  string
	trust   string
	tofu    bool
}

func (o *offlineOptions) register(fs *flag.FlagSet) {
	fs.BoolVar(&o.offline, "offline", false, "check against a trust bundle (signature, issuer scope and revocation) with no network")
	fs.StringVar(&o.bundle, "bundle", "", "with --offline: the trust bundle file (skillreg trust-bundle --server URL -o FILE)")
	fs.StringVar(&o.trust, "trust", "", "with --offline: a JWKS file of the registry keys you trust; the bundle must be signed by one of them")
	fs.BoolVar(&o.tofu, "trust-on-first-use", false, "with --offline: when the --trust file does not exist yet, trust the bundle's own keys, save them there and print their thumbprints")
}

// loadTrusted returns the keys a bundle must be signed by. With
// trust-on-first-use and no trust file yet, they are the bundle's own
// keys, saved to the trust file and shown, so that the operator can
// compare the thumbprints with the registry's published ones once.
func (o *offlineOptions) loadTrusted(bundle []byte, stderr io.Writer) ([]verify.Key, error) {
	if o.trust == "" {
		return nil, errors.New("--offline needs --trust FILE: a JWKS of the registry keys you trust (download https://HOST/.well-known/jwks.json over a channel you trust, or use --trust-on-first-use): a bundle that vouches for itself proves nothing")
	}
	b, err := os.ReadFile(o.trust)
	if err == nil {
		return verify.ParseJWKS(b)
	}
	if !errors.Is(err, os.ErrNotExist) || !o.tofu {
		return nil, err
	}
	// First use: the bundle's keys, checked for consistency (the bundle
	// must verify with them), then pinned.
	keys, jwks, err := bundleOwnKeys(bundle)
	if err != nil {
		return nil, err
	}
	if _, err := verify.OpenTrustBundle(bundle, keys); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(o.trust), 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(o.trust, jwks, 0o600); err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "\n  *** TRUST ON FIRST USE ***\n  %s did not exist: now trusting the bundle's own keys, saved there.\n  Compare these SHA-256 thumbprints with the registry's published ones before relying on any result:\n", o.trust)
	for _, k := range keys {
		fmt.Fprintf(stderr, "    kid %-10s thumbprint %s\n", k.ID, verify.Thumbprint(k.Public))
	}
	fmt.Fprintln(stderr)
	return keys, nil
}

// bundleOwnKeys reads the JWKS inside a bundle without checking anything.
func bundleOwnKeys(bundle []byte) ([]verify.Key, []byte, error) {
	jwks, err := verify.PeekTrustBundleJWKS(bundle)
	if err != nil {
		return nil, nil, err
	}
	keys, err := verify.ParseJWKS(jwks)
	return keys, jwks, err
}

// verifyOffline checks token against the bundle and prints the verdict.
func verifyOffline(ctx context.Context, o offlineOptions, token string, stdout, stderr io.Writer) int {
	if o.bundle == "" {
		fmt.Fprintln(stderr, "skillreg verify: --offline needs --bundle FILE (get one with: skillreg trust-bundle --server URL -o FILE)")
		return exitOfflineUsage
	}
	raw, err := os.ReadFile(o.bundle)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg verify: %v\n", err)
		return exitOfflineUsage
	}
	trusted, err := o.loadTrusted(raw, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "skillreg verify: %v\n", err)
		if registry.ErrorCode(err) == registry.EINVALID {
			return exitOfflineBadBundle
		}
		return exitOfflineUsage
	}
	ob, err := verify.OpenTrustBundle(raw, trusted)
	if err != nil {
		fmt.Fprintf(stdout, "status: bundle refused\nreason: %s\n", registry.ErrorMessage(err))
		return exitOfflineBadBundle
	}
	now := time.Now()
	res := ob.Check(ctx, token, now)
	printOffline(stdout, ob, res, now)
	switch {
	case res.Status == registry.VerifyValid && res.Stale:
		return exitOfflineStale
	case res.Status == registry.VerifyValid:
		return exitOfflineValid
	case res.Status == verify.OfflineNoStatus:
		return exitOfflineNoStatus
	default:
		return exitOfflineInvalid
	}
}

func printOffline(w io.Writer, ob *verify.OpenedBundle, res verify.OfflineResult, now time.Time) {
	status := res.Status
	if res.Stale && status == registry.VerifyValid {
		status = "valid as of the bundle, but the bundle is STALE: not confirmed"
	}
	fmt.Fprintf(w, "status: %s\n", status)
	if res.Reason != "" {
		fmt.Fprintf(w, "reason: %s\n", res.Reason)
	}
	if c := res.Claims; c != nil {
		fmt.Fprintf(w, "number: %s\nholder: %s\noccupation: %s\nlevel: %s\nissued on: %s\n",
			c.Number, c.HolderMasked, c.OccupationCode, c.Level.Name(), c.IssuedOn)
		if res.Issuer != nil {
			fmt.Fprintf(w, "issuer: %s %s (province %s)\n", res.Issuer.ID, res.Issuer.Name, res.Issuer.Province)
		}
		if c.StatusIndex > 0 {
			fmt.Fprintf(w, "status index: %d of %d\n", c.StatusIndex, ob.StatusBits())
		}
		fmt.Fprintf(w, "token key: %s\n", res.KeyID)
	}
	fmt.Fprintf(w, "bundle: issued %s (%s ago), time-to-live %s, signed by trusted key %s\n",
		ob.IssuedAt.Format(time.RFC3339), res.Age.Round(time.Second), time.Duration(ob.TTLSeconds)*time.Second, ob.SignedBy)
	if res.Stale {
		fmt.Fprintf(w, "WARNING: STALE BUNDLE: it expired %s ago (%s); revocations since it was made are not known. Fetch a fresh one: skillreg trust-bundle --server URL -o FILE\n",
			now.Sub(ob.ExpiresAt).Round(time.Second), ob.ExpiresAt.Format(time.RFC3339))
	}
}

// cmdTrustBundle downloads the trust bundle of a registry into a file,
// checking that it opens (with --trust, against the trusted keys).
func cmdTrustBundle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("trust-bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("SKILLREG_SERVER", ""), "the registry's base URL, e.g. https://zs.example.gov.cn (env SKILLREG_SERVER)")
	out := fs.String("o", "", "the file to write the bundle to")
	trust := fs.String("trust", "", "optional JWKS file of trusted keys: refuse a bundle they did not sign")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || *out == "" || fs.NArg() > 0 {
		return errors.New("usage: skillreg trust-bundle --server URL -o FILE [--trust JWKS]")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(*server, "/")+"/api/v1/trust-bundle", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetching the trust bundle: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetching the trust bundle: %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, verify.MaxTrustBundleBytes+1))
	if err != nil {
		return err
	}
	keys, _, err := bundleOwnKeys(b)
	if err != nil {
		return err
	}
	if *trust != "" {
		tb, err := os.ReadFile(*trust)
		if err != nil {
			return err
		}
		if keys, err = verify.ParseJWKS(tb); err != nil {
			return err
		}
	}
	ob, err := verify.OpenTrustBundle(b, keys)
	if err != nil {
		return err
	}
	tmp := *out + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: issued %s, valid until %s, %d issuers, status list of %d entries, signed by key %s\n",
		*out, ob.IssuedAt.Format(time.RFC3339), ob.ExpiresAt.Format(time.RFC3339), len(ob.Issuers), ob.StatusBits(), ob.SignedBy)
	if *trust == "" {
		fmt.Fprintln(stdout, "note: checked against its own keys only; pin the registry's keys with skillreg verify --offline --trust FILE")
	}
	return nil
}
