package registry_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/skillreg/skillreg/registry"
	"github.com/skillreg/skillreg/verify"
)

// TestStatusIndexAtIssue: every issued certificate gets a status index,
// unique, within the first list, drawn at random (neither in issue order
// nor bunched), carried in its token and in the public verify answer.
func TestStatusIndexAtIssue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	const n = 300
	seen := map[int]bool{}
	var order []int
	for i := 0; i < n; i++ {
		c, _, err := f.reg.Issue(ctx, u, issueInput(func(*registry.IssueInput) {}))
		if err != nil {
			t.Fatal(err)
		}
		if c.StatusIndex < 1 || c.StatusIndex >= registry.StatusListMinSize {
			t.Fatalf("status index %d outside [1, %d)", c.StatusIndex, registry.StatusListMinSize)
		}
		if seen[c.StatusIndex] {
			t.Fatalf("status index %d handed out twice", c.StatusIndex)
		}
		seen[c.StatusIndex] = true
		order = append(order, c.StatusIndex)
		if i == 0 {
			stored, _ := f.store.Certificate(ctx, c.Number)
			if stored.StatusIndex != c.StatusIndex {
				t.Fatalf("stored index %d, issued %d", stored.StatusIndex, c.StatusIndex)
			}
			tok, err := f.reg.Token(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			res, err := f.reg.Verify(ctx, tok)
			if err != nil || res.Status != registry.VerifyValid || res.Certificate.StatusIndex != c.StatusIndex {
				t.Fatalf("Verify: %+v %v; want valid with status index %d", res, err, c.StatusIndex)
			}
		}
	}
	// Random, not sequential: about half of the neighbours rise (a
	// sequence would rise every time), and the draws spread over the list
	// (300 draws fill about 116 of 128 equal slices; a counter fills 1).
	rises := 0
	for i := 1; i < n; i++ {
		if order[i] > order[i-1] {
			rises++
		}
	}
	if rises < 100 || rises > 200 {
		t.Errorf("%d of %d neighbours rise: the indexes follow the issue order", rises, n-1)
	}
	bins := map[int]bool{}
	for _, idx := range order {
		bins[idx*128/registry.StatusListMinSize] = true
	}
	if len(bins) < 90 {
		t.Errorf("the indexes fall into %d of 128 slices of the list: not uniform", len(bins))
	}
}

// fullFirstList is a real store whose first list is full: every index
// below StatusListMinSize counts as taken, as it would after 131,071
// issues.
type fullFirstList struct {
	registry.Store
	tries []int
}

func (s *fullFirstList) CreateCertificate(ctx context.Context, prefix string, c *registry.Certificate) (bool, error) {
	s.tries = append(s.tries, c.StatusIndex)
	if c.StatusIndex < registry.StatusListMinSize {
		return false, &registry.Error{Code: registry.ECONFLICT, Field: "status_index", Message: "taken"}
	}
	return s.Store.CreateCertificate(ctx, prefix, c)
}

// TestStatusListGrows: when draws keep hitting taken indexes the list
// doubles, and the certificate lands in the new half.
func TestStatusListGrows(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	full := &fullFirstList{Store: f.store}
	reg := registry.New(registry.Config{Store: full, Tokens: verify.NewTokens(verify.KeyStore{Store: f.store, Vault: f.vault}.Source()), Vault: f.vault, Clock: func() time.Time { return f.now }})
	c, _, err := reg.Issue(ctx, u, issueInput(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.StatusIndex < registry.StatusListMinSize || c.StatusIndex >= 2*registry.StatusListMinSize {
		t.Fatalf("index %d after growth, want in [%d, %d)", c.StatusIndex, registry.StatusListMinSize, 2*registry.StatusListMinSize)
	}
	if len(full.tries) < 8 {
		t.Errorf("grew after %d draws, want at least 8 collisions first", len(full.tries))
	}
	if got := registry.StatusListSize(c.StatusIndex); got != 2*registry.StatusListMinSize {
		t.Errorf("StatusListSize(%d) = %d, want %d", c.StatusIndex, got, 2*registry.StatusListMinSize)
	}
	for _, tc := range []struct{ max, want int }{{0, 131072}, {131071, 131072}, {131072, 262144}, {400000, 524288}} {
		if got := registry.StatusListSize(tc.max); got != tc.want {
			t.Errorf("StatusListSize(%d) = %d, want %d", tc.max, got, tc.want)
		}
	}
}

// TestAssignStatusIndexes: certificates stored before status lists get a
// unique random index; their old tokens (without "s") still verify, new
// tokens carry the index, and a token with a wrong index is forged.
func TestAssignStatusIndexes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u := f.issuerUser(t, centre)
	tokens := verify.NewTokens(verify.KeyStore{Store: f.store, Vault: f.vault}.Source())
	var old []*registry.Certificate
	var oldTokens []string
	for i := 0; i < 20; i++ {
		c := &registry.Certificate{IssuerID: u.IssuerID, HolderName: fmt.Sprintf("旧%d", i), HolderIDMasked: "110105********002X",
			HolderIDHash: "h", HolderIDCipher: []byte{1}, OccupationCode: "6-18-01-01", Level: 3, Channel: registry.ChannelSocial,
			IssuedOn: "2020-01-02", Status: registry.StatusValid, CreatedAt: f.now}
		kid, _ := tokens.ActiveKeyID(ctx)
		c.KeyID = kid
		if _, err := f.store.CreateCertificate(ctx, registry.NumberPrefix(u.IssuerID, 2020, 3), c); err != nil {
			t.Fatal(err)
		}
		tok, _, err := tokens.Sign(ctx, c.Claims(), kid)
		if err != nil {
			t.Fatal(err)
		}
		old, oldTokens = append(old, c), append(oldTokens, tok)
	}
	n, err := f.reg.AssignStatusIndexes(ctx)
	if err != nil || n != 20 {
		t.Fatalf("AssignStatusIndexes = %d, %v; want 20", n, err)
	}
	if n, err := f.reg.AssignStatusIndexes(ctx); err != nil || n != 0 {
		t.Fatalf("a second run = %d, %v; want 0", n, err)
	}
	seen := map[int]bool{}
	for i, c := range old {
		got, _ := f.store.Certificate(ctx, c.Number)
		if got.StatusIndex < 1 || seen[got.StatusIndex] {
			t.Fatalf("%s: index %d (duplicate or missing)", c.Number, got.StatusIndex)
		}
		seen[got.StatusIndex] = true
		res, err := f.reg.Verify(ctx, oldTokens[i])
		if err != nil || res.Status != registry.VerifyValid || res.Certificate.StatusIndex != got.StatusIndex {
			t.Fatalf("old token of %s: %+v %v", c.Number, res, err)
		}
		newTok, err := f.reg.Token(ctx, got)
		if err != nil {
			t.Fatal(err)
		}
		if newTok == oldTokens[i] {
			t.Fatal("the new token does not carry the status index")
		}
		claims, _, err := tokens.Parse(ctx, newTok)
		if err != nil || claims.StatusIndex != got.StatusIndex {
			t.Fatalf("new token claims %+v %v", claims, err)
		}
		wrong := got.Claims()
		wrong.StatusIndex = got.StatusIndex%1000 + 1 + 1000
		wrongTok, _, _ := tokens.Sign(ctx, wrong, got.KeyID)
		if res, _ := f.reg.Verify(ctx, wrongTok); res.Status != registry.VerifyForged {
			t.Fatalf("a token with another status index: %s, want forged", res.Status)
		}
	}
}

// TestEncodeStatusList: bit 0 is the first byte's most significant bit,
// and indexes outside the list are refused.
func TestEncodeStatusList(t *testing.T) {
	t.Parallel()
	enc, err := registry.EncodeStatusList(registry.StatusListMinSize, []int{0, 9, registry.StatusListMinSize - 1})
	if err != nil {
		t.Fatal(err)
	}
	bits, err := verify.DecodeStatusList(enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(bits) != registry.StatusListMinSize/8 || bits[0] != 0x80 || bits[1] != 0x40 || bits[len(bits)-1] != 0x01 {
		t.Fatalf("bytes %x %x ... %x", bits[0], bits[1], bits[len(bits)-1])
	}
	if _, err := registry.EncodeStatusList(registry.StatusListMinSize, []int{registry.StatusListMinSize}); err == nil {
		t.Error("an index outside the list was encoded")
	}
}

// TestParseBatch: the parsers keep input order and mixed kinds.
func TestParseBatch(t *testing.T) {
	t.Parallel()
	items, err := registry.ParseBatchJSON([]byte(`{"items":[{"token":"t1"},{"number":"n1","name":"张三"},{"token":" t2 "}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []registry.BatchItem{{Token: "t1"}, {Number: "n1", Name: "张三"}, {Token: "t2"}}
	if !slices.Equal(items, want) {
		t.Fatalf("JSON items %+v", items)
	}
	items, err = registry.ParseBatchCSV([]byte("token,number,name\nt1,,\n,n1,张三\nt2,,\n"))
	if err != nil || !slices.Equal(items, want) {
		t.Fatalf("CSV items %+v %v", items, err)
	}
}

// FuzzParseBatch: neither parser panics, and what they accept holds
// 1-1000 items, each a token or a number with a name, within the limits.
func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`{"items":[{"token":"a"},{"number":"S1","name":"张三"}]}`))
	f.Add([]byte("token,number,name\na,,\n,S1,张三\n"))
	f.Add([]byte("\ufeffnumber,name\r\n\"S1\",\"欧阳,娜娜\"\r\n"))
	f.Add([]byte(`{"items":[{"token":"a","number":"b"}]}`))
	f.Add([]byte("token\n\"a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func([]byte) ([]registry.BatchItem, error){registry.ParseBatchJSON, registry.ParseBatchCSV} {
			items, err := parse(b)
			if err != nil {
				if registry.ErrorCode(err) != registry.EINVALID || registry.ErrorMessage(err) == "" {
					t.Fatalf("error %v is not a clear EINVALID", err)
				}
				continue
			}
			if len(items) < 1 || len(items) > registry.MaxBatchItems {
				t.Fatalf("%d items accepted", len(items))
			}
			for _, it := range items {
				byToken := it.Token != ""
				byNumber := it.Number != "" && strings.TrimSpace(it.Name) != ""
				if byToken == byNumber || len(it.Token) > 4096 || utf8.RuneCountInString(it.Name) > 200 {
					t.Fatalf("accepted item %+v", it)
				}
			}
		}
	})
}
