package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/signedcache"
	"github.com/skillreg/skillreg/verify"
	"github.com/skillreg/skillreg/web"
)

// What standard verifiers need besides the VC-JWT itself: the DID document
// that holds the keys, the JSON-LD context of skillreg's terms, and the
// revocation list as a credential of its own.

// StatusListLifetime is the validity of a signed revocation list
// (validUntil - validFrom, and exp - iat): short, so that a verifier shown
// an old copy refuses it. The list is signed again as soon as its bits
// change, and otherwise when half of its lifetime has passed.
const StatusListLifetime = 15 * time.Minute

// didDoc answers GET /.well-known/did.json, and GET /did.json for a
// public URL with a path (did:web:host:path resolves to
// https://host/path/did.json), with the registry's did:web DID document: every key of /.well-known/jwks.json, retired ones
// included, as a verification method named by the DID URL that VC-JWT
// headers carry as their kid.
func (s *Server) didDoc(c echo.Context) error {
	if s.did == "" {
		return registry.Errorf(registry.EINTERNAL, "the public URL %q makes no did:web", s.publicURL)
	}
	b, err := s.jwks(c.Request().Context())
	if err != nil {
		return err
	}
	keys, err := verify.ParseJWKS(b)
	if err != nil {
		return err
	}
	doc, err := verify.DIDDocument(s.did, keys)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.Blob(http.StatusOK, "application/did+json", doc)
}

// contextDoc answers GET /ns/skillreg/v1 with the JSON-LD context embedded
// in the binary; a version's document never changes, so caches keep it.
func (s *Server) contextDoc(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	c.Response().Header().Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/ld+json", web.Context())
}

// statusListCredential answers GET /api/v1/status-lists/revocation with the
// revocation list as a BitstringStatusListCredential secured as a VC-JWT.
// Its bits are the trust bundle's (both read registry.StatusList), so a
// revocation through any server shows within registry.StatusListRefresh
// on every server; responses are cacheable for that long, with an ETag.
func (s *Server) statusListCredential(c echo.Context) error {
	d, err := s.currentStatusList(c.Request().Context())
	if err != nil {
		return err
	}
	etag := d.ETag
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(registry.StatusListRefresh/time.Second)))
	h.Set("Last-Modified", d.Signed.UTC().Format(http.TimeFormat))
	h.Set("Access-Control-Allow-Origin", "*")
	if match := c.Request().Header.Get("If-None-Match"); match != "" {
		for _, m := range strings.Split(match, ",") {
			if m = strings.TrimSpace(m); m == etag || m == "W/"+etag || m == "*" {
				return c.NoContent(http.StatusNotModified)
			}
		}
	}
	return c.Blob(http.StatusOK, "application/vc+jwt", d.Body)
}

// currentStatusList returns the signed revocation list, signed again
// when its bits change or half of its lifetime has passed.
func (s *Server) currentStatusList(ctx context.Context) (*signedcache.Doc, error) {
	if s.signCredential == nil || s.did == "" {
		return nil, registry.Errorf(registry.EINTERNAL, "no credential signer or DID configured")
	}
	list, err := s.reg.StatusList(ctx)
	if err != nil {
		return nil, err
	}
	return s.statusList.Get(ctx, list.EncodedList, s.now, func(ctx context.Context, now time.Time) (string, time.Time, error) {
		payload := verify.NewStatusListJWT(s.publicURL, s.did, now, StatusListLifetime, list.EncodedList)
		jwt, _, err := s.signCredential(ctx, s.did+"#", map[string]any{"typ": "vc+jwt", "cty": "vc"}, payload)
		return jwt, payload.ValidFrom, err
	})
}
