package handlers_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestAPIErrors covers every 400/401/403/404 the API promises, through the
// real echo stack on a real database.
func TestAPIErrors(t *testing.T) {
	h := newHarness(t)
	tokA := h.issuer("S000111000001", "11", []string{"6-18", "4-04-05"}, 2)
	tokB := h.issuer("Y123444000002", "44", []string{"6-18"}, 1)
	h.expect(h.do("POST", "/api/v1/users", h.admin(), map[string]any{"username": "gd-official", "password": userPassword, "role": "official", "province": "44"}), 201)
	official := h.login("gd-official", userPassword)
	a := h.expect(h.do("POST", "/api/v1/certificates", tokA, certBody(nil)), 201).json(t)
	numberA := a["number"].(string)
	certToken := a["token"].(string)

	tests := []struct {
		name, method, path, token string
		body                      any
		status                    int
		code, field               string
	}{
		// 400: every field the issue names, and bodies.
		{"bad ID check digit", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"id_number": "110105194912310021"}), 400, "invalid", "id_number"},
		{"unknown occupation", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"occupation_code": "6-18-01-99"}), 400, "invalid", "occupation_code"},
		{"level 0", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"level": 0}), 400, "invalid", "level"},
		{"level 6", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"level": 6}), 400, "invalid", "level"},
		{"level as string", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"level": "2"}), 400, "invalid", "level"},
		{"unknown channel", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"channel": "online"}), 400, "invalid", "channel"},
		{"missing name", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"holder_name": nil}), 400, "invalid", "holder_name"},
		{"bad date", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"issued_on": "2026-13-01"}), 400, "invalid", "issued_on"},
		{"future date", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"issued_on": time.Now().AddDate(0, 0, 3).Format("2006-01-02")}), 400, "invalid", "issued_on"},
		{"malformed JSON", "POST", "/api/v1/certificates", tokA, `{"holder_name": "张三",`, 400, "invalid", "body"},
		{"empty body", "POST", "/api/v1/certificates", tokA, ``, 400, "invalid", "body"},
		{"unknown field", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"id_card": "x"}), 400, "invalid", "id_card"},
		{"two JSON values", "POST", "/api/v1/certificates", tokA, `{} {}`, 400, "invalid", "body"},
		{"body over 1 MiB", "POST", "/api/v1/certificates", tokA, `{"holder_name":"` + strings.Repeat("a", 1<<20) + `"}`, 400, "too_large", "body"},
		{"bad issuer kind", "POST", "/api/v1/issuers", h.admin(), map[string]any{"name": "x", "kind": "Z", "org_code": "0001", "province": "11", "site": "000001", "scope": map[string]any{"occupations": []string{"6-18"}, "max_level": 2}}, 400, "invalid", "kind"},
		{"unknown province", "POST", "/api/v1/issuers", h.admin(), map[string]any{"name": "x", "kind": "S", "org_code": "0001", "province": "99", "site": "000001", "scope": map[string]any{"occupations": []string{"6-18"}, "max_level": 2}}, 400, "invalid", "province"},
		{"bad scope", "POST", "/api/v1/issuers", h.admin(), map[string]any{"name": "x", "kind": "S", "org_code": "0001", "province": "11", "site": "000009", "scope": map[string]any{"occupations": []string{"9-99"}, "max_level": 2}}, 400, "invalid", "scope.occupations"},
		{"short password", "POST", "/api/v1/users", h.admin(), map[string]any{"username": "someone", "password": "short", "role": "official"}, 400, "invalid", "password"},
		{"issuer user without issuer", "POST", "/api/v1/users", h.admin(), map[string]any{"username": "someone", "password": userPassword, "role": "issuer"}, 400, "invalid", "issuer_id"},
		{"bad role", "POST", "/api/v1/users", h.admin(), map[string]any{"username": "someone", "password": userPassword, "role": "root"}, 400, "invalid", "role"},
		{"revoke without reason", "POST", "/api/v1/certificates/" + numberA + "/revoke", tokA, map[string]string{"reason": " "}, 400, "invalid", "reason"},
		{"qr size", "GET", "/api/v1/certificates/" + numberA + "/qr.png?size=9", tokA, nil, 400, "invalid", "size"},
		{"list status", "GET", "/api/v1/certificates?status=lost", tokA, nil, 400, "invalid", "status"},
		{"verify without token", "POST", "/api/v1/verify", "", map[string]string{}, 400, "invalid", "token"},
		{"wrong content type", "POST", "/api/v1/auth/login", "", "username=admin", 400, "invalid", "body"},

		// 401
		{"login wrong password", "POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "wrong-password"}, 401, "unauthorized", ""},
		{"login unknown user", "POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "wrong-password"}, 401, "unauthorized", ""},
		{"issue anonymously", "POST", "/api/v1/certificates", "", certBody(nil), 401, "unauthorized", ""},
		{"create issuer anonymously", "POST", "/api/v1/issuers", "", map[string]any{}, 401, "unauthorized", ""},
		{"create user anonymously", "POST", "/api/v1/users", "", map[string]any{}, 401, "unauthorized", ""},
		{"revoke anonymously", "POST", "/api/v1/certificates/" + numberA + "/revoke", "", map[string]string{"reason": "x"}, 401, "unauthorized", ""},
		{"read anonymously", "GET", "/api/v1/certificates/" + numberA, "", nil, 401, "unauthorized", ""},
		{"list anonymously", "GET", "/api/v1/certificates", "", nil, 401, "unauthorized", ""},
		{"qr anonymously", "GET", "/api/v1/certificates/" + numberA + "/qr.png", "", nil, 401, "unauthorized", ""},
		{"garbage bearer", "GET", "/api/v1/certificates", "not-a-token", nil, 401, "unauthorized", ""},
		{"certificate token as login token", "GET", "/api/v1/certificates", certToken, nil, 401, "unauthorized", ""},

		// 403
		{"issuer creates issuer", "POST", "/api/v1/issuers", tokA, map[string]any{"name": "x"}, 403, "forbidden", ""},
		{"issuer creates user", "POST", "/api/v1/users", tokA, map[string]any{"username": "x"}, 403, "forbidden", ""},
		{"admin issues", "POST", "/api/v1/certificates", h.admin(), certBody(nil), 403, "forbidden", ""},
		{"official issues", "POST", "/api/v1/certificates", official, certBody(nil), 403, "forbidden", ""},
		{"level above scope", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"level": 1}), 403, "forbidden", ""},
		{"occupation outside scope", "POST", "/api/v1/certificates", tokA, certBody(map[string]any{"occupation_code": "6-19-01-01"}), 403, "forbidden", ""},
		{"official lists certificates", "GET", "/api/v1/certificates", official, nil, 403, "forbidden", ""},
		{"official revokes", "POST", "/api/v1/certificates/" + numberA + "/revoke", official, map[string]string{"reason": "x"}, 403, "forbidden", ""},

		// 404: another issuer's record does not exist for them.
		{"other issuer reads", "GET", "/api/v1/certificates/" + numberA, tokB, nil, 404, "not_found", ""},
		{"other issuer revokes", "POST", "/api/v1/certificates/" + numberA + "/revoke", tokB, map[string]string{"reason": "x"}, 404, "not_found", ""},
		{"other issuer QR", "GET", "/api/v1/certificates/" + numberA + "/qr.png", tokB, nil, 404, "not_found", ""},
		{"official of another province reads", "GET", "/api/v1/certificates/" + numberA, official, nil, 404, "not_found", ""},
		{"missing certificate", "GET", "/api/v1/certificates/S000111000001262999999", tokA, nil, 404, "not_found", ""},
		{"no such route", "GET", "/api/v1/nothing", "", nil, 404, "not_found", ""},
		{"user with unknown issuer", "POST", "/api/v1/users", h.admin(), map[string]any{"username": "someone", "password": userPassword, "role": "issuer", "issuer_id": "S999999999999"}, 400, "invalid", "issuer_id"},

		// 409
		{"duplicate issuer", "POST", "/api/v1/issuers", h.admin(), map[string]any{"name": "again", "kind": "S", "org_code": "0001", "province": "11", "site": "000001", "scope": map[string]any{"occupations": []string{"6-18"}, "max_level": 2}}, 409, "conflict", ""},
		{"duplicate username", "POST", "/api/v1/users", h.admin(), map[string]any{"username": "gd-official", "password": userPassword, "role": "official"}, 409, "conflict", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := h.do(tt.method, tt.path, tt.token, tt.body)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			code, field := r.errorCode(t)
			if code != tt.code || field != tt.field {
				t.Fatalf("error %s on %q, want %s on %q: %s", code, field, tt.code, tt.field, r.body)
			}
		})
	}
	// Bad username and bad password give the very same answer.
	r1 := h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "admin", "password": "wrong-password"})
	r2 := h.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "nobody", "password": "wrong-password"})
	if string(r1.body) != string(r2.body) {
		t.Errorf("login errors differ: %s vs %s", r1.body, r2.body)
	}
	// A failed issuance wrote nothing: the next number is serial 2.
	n := h.expect(h.do("POST", "/api/v1/certificates", tokA, certBody(map[string]any{"holder_name": "王五", "id_number": testID(2)})), 201).json(t)["number"].(string)
	if !strings.HasSuffix(n, "000002") {
		t.Errorf("after failed issuances the next number is %s, want serial 2 (no gaps)", n)
	}
}

// TestExternalRefIdempotent: the same external_ref from the same issuer
// returns the existing certificate (200), never a second one.
func TestExternalRefIdempotent(t *testing.T) {
	h := newHarness(t)
	tokA := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	tokB := h.issuer("S000211000001", "11", []string{"6-18"}, 2)
	first := h.expect(h.do("POST", "/api/v1/certificates", tokA, certBody(map[string]any{"external_ref": "row-1"})), 201).json(t)
	again := h.expect(h.do("POST", "/api/v1/certificates", tokA, certBody(map[string]any{"external_ref": "row-1"})), 200).json(t)
	if first["number"] != again["number"] || first["token"] != again["token"] {
		t.Fatalf("retry gave %v, first %v", again["number"], first["number"])
	}
	other := h.expect(h.do("POST", "/api/v1/certificates", tokB, certBody(map[string]any{"external_ref": "row-1"})), 201).json(t)
	if other["number"] == first["number"] {
		t.Fatal("another issuer's same ref reused the certificate")
	}
	list := h.expect(h.do("GET", "/api/v1/certificates", tokA, nil), 200).json(t)
	if list["total"].(float64) != 1 {
		t.Fatalf("issuer A has %v certificates, want 1", list["total"])
	}
}

// TestTokenAttacks: forged certificate tokens and login tokens are refused
// at the API.
func TestTokenAttacks(t *testing.T) {
	h := newHarness(t)
	tok := h.issuer("S000111000001", "11", []string{"6-18"}, 2)
	c := h.expect(h.do("POST", "/api/v1/certificates", tok, certBody(nil)), 201).json(t)
	good := c["token"].(string)
	parts := strings.Split(good, ".")
	kid := jwtHeader(t, good)["kid"].(string)
	payload := map[string]any{"n": c["number"], "o": "6-18-01-01", "l": 2, "d": strings.ReplaceAll(c["issued_on"].(string), "-", ""), "h": "张*三"}

	pub := mustPublicKey(t, h)
	hsWithPub, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(payload)).SignedString([]byte(pub))
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(payload)).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	unknownKid := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(payload))
	unknownKid.Header["kid"] = "zzzzzzzz"
	unknownKidTok, _ := unknownKid.SignedString(otherPriv)
	ourKidOtherKey := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims(payload))
	ourKidOtherKey.Header["kid"] = kid
	ourKidOtherKeyTok, _ := ourKidOtherKey.SignedString(otherPriv)
	tamperedPayload := parts[0] + "." + b64json(t, map[string]any{"n": c["number"], "o": "6-18-01-01", "l": 1, "d": payload["d"], "h": "张*三"}) + "." + parts[2]
	sig := []byte(parts[2])
	// Change one character to another valid base64url character, so the
	// token stays well-formed and only the signature is wrong.
	if sig[5] == 'A' {
		sig[5] = 'B'
	} else {
		sig[5] = 'A'
	}
	tamperedSig := parts[0] + "." + parts[1] + "." + string(sig)
	loginTok := h.admin()

	tests := []struct{ name, token, want string }{
		{"good", good, "valid"},
		{"alg none", none, "forged"},
		{"HS256 keyed with the public key", hsWithPub, "forged"},
		{"unknown kid", unknownKidTok, "forged"},
		{"our kid, another key", ourKidOtherKeyTok, "forged"},
		{"tampered payload", tamperedPayload, "forged"},
		{"tampered signature", tamperedSig, "forged"},
		{"login token as certificate token", loginTok, "forged"},
		{"garbage", "hello", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": tt.token}), 200).json(t)
			if v["status"] != tt.want {
				t.Fatalf("status %v, want %s (%v)", v["status"], tt.want, v["reason"])
			}
			if tt.want != "valid" && v["certificate"] != nil {
				t.Fatalf("a %s token showed a certificate", tt.want)
			}
		})
	}
	// A well-formed, correctly signed token for a number the registry
	// never issued is "unknown".
	unknownTok, _, err := h.tokens.Sign(t.Context(), claimsFor("S000111000001262000099"), "")
	if err != nil {
		t.Fatal(err)
	}
	v := h.expect(h.do("POST", "/api/v1/verify", "", map[string]string{"token": unknownTok}), 200).json(t)
	if v["status"] != "unknown" {
		t.Fatalf("unregistered token: %v", v)
	}
	// Login tokens: tampered, expired, wrong algorithm.
	lp := strings.Split(loginTok, ".")
	tampered := lp[0] + "." + b64json(t, map[string]any{"role": "admin", "sub": "someone-else", "iss": "skillreg", "aud": []string{"skillreg-api"}, "exp": time.Now().Add(time.Hour).Unix()}) + "." + lp[2]
	expired := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x", "iss": "skillreg", "aud": "skillreg-api", "exp": time.Now().Add(-time.Hour).Unix()})
	expiredTok, _ := expired.SignedString([]byte("guess"))
	for name, bad := range map[string]string{"tampered login": tampered, "wrong key": expiredTok, "alg none": none, "too long": strings.Repeat("a", 5000)} {
		r := h.do("GET", "/api/v1/issuers", bad, nil)
		if r.status != 401 {
			t.Errorf("%s: status %d, want 401", name, r.status)
		}
	}
	h.expect(h.do("GET", "/api/v1/issuers", loginTok, nil), 200)
}
