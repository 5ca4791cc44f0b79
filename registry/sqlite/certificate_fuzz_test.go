package sqlite

import "testing"

// FuzzSplitVerification: the verification record's one-value form is read
// without panicking whatever the bytes, and a value it accepts has its
// texts inside the value.
func FuzzSplitVerification(f *testing.F) {
	f.Add("13 9 10 10 5 -1 0 8 2 7  S000111000001张小三6-18-01-012025-06-30validk2025061")
	f.Add("13 9 10 10 7 30 6 8 2 -1 5A5A 张小三")
	f.Add("1 1 1 1 1 1 1 1 1 1 zz abcdefgh")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := splitVerification(v)
		if err != nil {
			return
		}
		for _, s := range []string{c.IssuerID, c.HolderName, c.OccupationCode, c.IssuedOn, c.Status, c.RevokeReason, c.KeyID} {
			if len(s) > len(v) {
				t.Fatalf("text %q longer than the value %q", s, v)
			}
		}
	})
}
