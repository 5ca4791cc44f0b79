package handlers

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/skillreg/skillreg/registry"
)

// FuzzVerifyJSON: the reflection-free encoding of a verification's answer
// is byte for byte what c.JSON's json.Encoder writes, for any strings
// (escapes, HTML characters, U+2028, invalid UTF-8), levels, status
// indexes and revocation times, with and without a certificate.
func FuzzVerifyJSON(f *testing.F) {
	f.Add("valid", "", true, "S000011000001253000043", "张*三", "6-18-01-01", "中式烹调师", 3, "三级/高级工",
		"S000011000001", "北京市职业技能鉴定指导中心", "2025-06-30", "valid", int64(0), "", 0)
	f.Add("revoked", "", true, "S000011000001253000043", "Jo\"<b>&\u2028", "6-18-01-01", "\xff\xfe", 3, "x",
		"S000011000001", "a\\b\nc\td\x01", "2025-06-30", "revoked", int64(1767225600123456789), "录入错误 <script>", 77)
	f.Add("forged", "the token's contents do not match", false, "", "", "", "", 0, "", "", "", "", "", int64(0), "", 0)
	f.Add("revoked", "", true, "n", "h", "o", "on", -5, "ln", "i", "in", "d", "s", int64(-62135596800000000), "r", -1)
	f.Fuzz(func(t *testing.T, status, reason string, cert bool, number, holder, occ, occName string, level int,
		levelName, issuerID, issuerName, issuedOn, certStatus string, revokedNanos int64, revokeReason string, statusIndex int) {
		r := verifyResultJSON{Status: status, Reason: reason}
		if cert {
			p := &publicCertificateJSON{Number: number, HolderName: holder, OccupationCode: occ, OccupationName: occName,
				Level: registry.Level(level), LevelName: levelName, IssuerID: issuerID, IssuerName: issuerName,
				IssuedOn: issuedOn, Status: certStatus, RevokeReason: revokeReason, StatusIndex: statusIndex}
			if revokedNanos != 0 {
				at := time.Unix(0, revokedNanos).UTC()
				p.RevokedAt = &at
			}
			r.Certificate = p
		}
		var want bytes.Buffer
		wantErr := json.NewEncoder(&want).Encode(r)
		got, ok := r.appendJSON(nil)
		if (wantErr == nil) != ok {
			t.Fatalf("appendJSON ok = %v, json.Encoder error = %v", ok, wantErr)
		}
		if ok && !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendJSON:\n%s\njson.Encoder:\n%s", got, want.Bytes())
		}
	})
}

// TestVerifyJSONOutOfRangeTime: a revocation time json.Marshal refuses is
// refused by appendJSON too, so that the answer goes to c.JSON.
func TestVerifyJSONOutOfRangeTime(t *testing.T) {
	at := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	r := verifyResultJSON{Status: "revoked", Certificate: &publicCertificateJSON{RevokedAt: &at}}
	if _, ok := r.appendJSON(nil); ok {
		t.Fatal("appendJSON accepted the year 10000")
	}
	if _, err := json.Marshal(r); err == nil {
		t.Fatal("json.Marshal accepted the year 10000")
	}
}

// wantsJSONReference is wantsJSON as it was first written, parsing every
// part of the header: the fuzz test holds the faster one to it.
func wantsJSONReference(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case echo.MIMEApplicationJSON:
			return true
		case "text/html", "application/xhtml+xml":
			return false
		}
	}
	return false
}

// FuzzWantsJSON: wantsJSON, which parses only the parts of an Accept
// header that are not plainly one of the types it looks for, answers as
// parsing every part does.
func FuzzWantsJSON(f *testing.F) {
	for _, s := range []string{"", "application/json", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
		"Application/JSON", " application/json ; charset=utf-8", "*/*", "text/plain, application/json", "text/html;q=0.1, application/json",
		"application/json,", ",,text/html", "application/json;=", "\tapplication/xhtml+xml\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, accept string) {
		r := httptest.NewRequest("GET", "/v/x", nil)
		r.Header.Set("Accept", accept)
		if got, want := wantsJSON(r), wantsJSONReference(r.Header.Get("Accept")); got != want {
			t.Fatalf("wantsJSON(%q) = %v, parsing every part gives %v", accept, got, want)
		}
	})
}
