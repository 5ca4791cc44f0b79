package storetest

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// testVerificationRecord: a store that reads the verification fields on
// their own (registry.VerificationReader) returns exactly what Certificate
// returns in those fields, and nothing else, for certificates with and
// without a token MAC and status index, revoked or not; a missing number,
// or one differing only in letter case, is ENOTFOUND.
func testVerificationRecord(t *testing.T, s registry.Store) {
	vr, ok := s.(registry.VerificationReader)
	if !ok {
		t.Skip("the store reads whole records for verification")
	}
	ctx := context.Background()
	seedIssuers(t, s, issuerA)
	plain := mustCreate(t, s, newCert(issuerA, 1))
	full := newCert(issuerA, 2)
	full.TokenMAC = bytes.Repeat([]byte{0x5a}, 32)
	full.StatusIndex = 77
	full.ExternalRef = "erp-2"
	full.Channel = registry.ChannelSpecial
	full = mustCreate(t, s, full)
	revoked := mustCreate(t, s, newCert(issuerA, 3))
	if _, err := s.RevokeCertificate(ctx, revoked.Number, "证书信息录入错误", at(50)); err != nil {
		t.Fatalf("RevokeCertificate: %v", err)
	}
	// A reason of spaces, digits and minus signs, in several scripts.
	odd := mustCreate(t, s, newCert(issuerA, 4))
	if _, err := s.RevokeCertificate(ctx, odd.Number, " 12 -1 录入 错误 ༄ x'00' ", at(51)); err != nil {
		t.Fatalf("RevokeCertificate: %v", err)
	}
	for _, number := range []string{plain.Number, full.Number, revoked.Number, odd.Number} {
		whole, err := s.Certificate(ctx, number)
		if err != nil {
			t.Fatalf("Certificate(%s): %v", number, err)
		}
		want := registry.Certificate{
			Number: whole.Number, IssuerID: whole.IssuerID, HolderName: whole.HolderName,
			OccupationCode: whole.OccupationCode, Level: whole.Level, IssuedOn: whole.IssuedOn,
			Status: whole.Status, RevokedAt: whole.RevokedAt, RevokeReason: whole.RevokeReason,
			KeyID: whole.KeyID, StatusIndex: whole.StatusIndex, TokenMAC: whole.TokenMAC,
		}
		got, err := vr.VerificationRecord(ctx, number)
		if err != nil {
			t.Fatalf("VerificationRecord(%s): %v", number, err)
		}
		if !reflect.DeepEqual(got, &want) {
			t.Errorf("VerificationRecord(%s):\n got %+v\nwant %+v", number, got, &want)
		}
	}
	_, err := vr.VerificationRecord(ctx, prefixOf(issuerA, registry.Level3)+"000099")
	wantCode(t, "VerificationRecord of a missing number", err, registry.ENOTFOUND)
	_, err = vr.VerificationRecord(ctx, strings.ToLower(plain.Number))
	wantCode(t, "VerificationRecord of the number in lower case", err, registry.ENOTFOUND)
}
