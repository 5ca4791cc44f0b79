package mongo

import (
	"bytes"
	"testing"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// TestDocumentSizes measures the BSON size of the documents this package
// writes, built from realistic values with the real vault and key code, and
// the size of each index key. docs/deploy.md's capacity model uses these
// numbers (run with -v to print them); the budgets make a change that
// grows a document fail here until the model is updated.
func TestDocumentSizes(t *testing.T) {
	vault, err := registry.NewVault(bytes.Repeat([]byte{7}, registry.MasterKeySize))
	if err != nil {
		t.Fatal(err)
	}
	key, err := verify.NewKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const id = "11010519491231002X"
	cipher, err := vault.EncryptID(id)
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.UTC)
	cert := &registry.Certificate{
		Number: "S000111000001242000123", IssuerID: "S000111000001", HolderName: "张小三",
		HolderIDMasked: registry.MaskIDNumber(id), HolderIDHash: vault.HashID(id), HolderIDCipher: cipher,
		OccupationCode: "6-18-01-01", Level: registry.Level2, Channel: registry.ChannelSocial, IssuedOn: "2024-05-06",
		Status: registry.StatusValid, KeyID: key.ID, CreatedAt: created,
	}
	withRef := *cert
	withRef.ExternalRef = "2024-exam-0618/000123" // 21 bytes, a typical batch/row reference
	revoked := withRef
	revokedAt := created.Add(24 * time.Hour)
	revoked.Status, revoked.RevokedAt, revoked.RevokeReason = registry.StatusRevoked, &revokedAt, "考核成绩录入错误" // 8 characters

	body := toCertDoc(&withRef)
	body.Number = ""
	since := created.UnixMilli()
	docs := []struct {
		name   string
		doc    any
		budget int
	}{
		{"certificate, no external_ref", toCertDoc(cert), 480},
		{"certificate, external_ref", toCertDoc(&withRef), 520},
		{"certificate, revoked", toCertDoc(&revoked), 600},
		{"external_refs, issued", &refDoc{Key: refKey(withRef.IssuerID, withRef.ExternalRef), Number: withRef.Number}, 100},
		{"external_refs, claimed (transient)", &refDoc{Key: refKey(withRef.IssuerID, withRef.ExternalRef), First: withRef.Number,
			Prefix: withRef.Number[:16], Cert: body, Claimed: &since}, 640},
		{"external_ref_rebinds", &rebindDoc{ID: rebindKey(refKey(withRef.IssuerID, withRef.ExternalRef), 1), Number: withRef.Number}, 100},
		{"revocations", &revocationDoc{Number: revoked.Number, Reason: revoked.RevokeReason, RevokedAt: revokedAt}, 110},
		{"serials", &serialDoc{Prefix: cert.Number[:16], Last: 123}, 60},
		{"issuer (3 occupations)", toIssuerDoc(&registry.Issuer{ID: "S000111000001", Name: "北京市职业技能鉴定指导中心", Kind: "S",
			OrgCode: "0001", Province: "11", Site: "000001", Scope: registry.Scope{Occupations: []string{"6-18", "4-04-05", "6-20"}, MaxLevel: 2},
			CreatedAt: created}), 300},
	}
	for _, d := range docs {
		b, err := bson.Marshal(d.doc)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%-36s %4d bytes BSON", d.name, len(b))
		if len(b) > d.budget {
			t.Errorf("%s is %d bytes, over its budget of %d: update docs/deploy.md's capacity model and the budget", d.name, len(b), d.budget)
		}
	}

	// Index keys, in WiredTiger's KeyString form: per field a type byte,
	// the value (strings with a terminating 0, dates as 8 bytes), then the
	// record id (up to 9 bytes for 300 million records). This is the
	// uncompressed entry; prefix compression shrinks keys that share a
	// beginning (numbers of one prefix, one issuer's entries).
	str := func(s string) int { return 1 + len(s) + 1 }
	const date, recordID = 1 + 8, 9
	keys := []struct {
		name string
		size int
	}{
		{"certificates _id", str(cert.Number) + recordID},
		{"certificates issuer_created", str(cert.IssuerID) + date + str(cert.Number) + recordID},
		{"certificates created", date + str(cert.Number) + recordID},
		{"certificates holder", str(cert.HolderIDHash) + date + str(cert.Number) + recordID},
		{"external_refs _id", str(refKey(withRef.IssuerID, withRef.ExternalRef)) + recordID},
		{"revocations _id", str(cert.Number) + recordID},
	}
	for _, k := range keys {
		t.Logf("index entry %-28s %3d bytes", k.name, k.size)
	}
	if n := utf8.RuneCountInString(cert.HolderIDHash); n != 64 {
		t.Errorf("holder hash has %d characters; the capacity model assumes 64 (hex HMAC-SHA-256)", n)
	}
}
