package verify

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

// qrCorpusSizes are the image widths the product serves: the print page's
// and the QR endpoint's default (320), and common ?size= values.
var qrCorpusSizes = []int{320, 640, 256, 512}

// qrCorpus returns n verify URLs of realistic certificate tokens, signed
// with seeded random claims, so that every run sees the same codes.
func qrCorpus(t testing.TB, n int) []string {
	t.Helper()
	rng := rand.New(rand.NewPCG(20261206, 1))
	tk := staticTokens(t, testKey(1, true))
	surnames := []rune("张王李赵刘陈杨黄周吴徐孙马朱胡郭何高林罗")
	hosts := []string{"http://127.0.0.1:8080", "https://zscx.hrss.example.gov.cn", "https://skills.example.org"}
	out := make([]string, n)
	for i := range out {
		holder := string(surnames[rng.IntN(len(surnames))]) + "*" + string(surnames[rng.IntN(len(surnames))])
		if rng.IntN(4) == 0 {
			holder = "阿依**"
		}
		level := 1 + rng.IntN(5)
		year := 20 + rng.IntN(7)
		c := registry.TokenClaims{
			Number:         fmt.Sprintf("%c%012d%02d%d%06d", "SY"[rng.IntN(2)], rng.Int64N(1e12), year, level, 1+rng.IntN(registry.MaxSerial)),
			OccupationCode: fmt.Sprintf("%d-%02d-%02d-%02d", 1+rng.IntN(8), rng.IntN(40), rng.IntN(20), rng.IntN(20)),
			Level:          registry.Level(level),
			IssuedOn:       fmt.Sprintf("20%02d-%02d-%02d", year, 1+rng.IntN(12), 1+rng.IntN(28)),
			HolderMasked:   holder,
			StatusIndex:    rng.IntN(registry.MaxStatusListSize),
		}
		out[i] = VerifyURL(hosts[rng.IntN(len(hosts))], mustSign(t, tk, c, ""))
	}
	return out
}

// qrCorpusLen is how many codes TestDecodeQRCorpus and TestQRCorpusZbarimg
// try at each size. zxing's own detector misread 51, 10 and 17 of 2,000
// of our codes at 256, 320 and 512 px, so 600 codes hold a dozen or more
// of those on which a decoder without the grid read fails; 2,000 more
// than doubled the package's test time for no more coverage.
func qrCorpusLen() int {
	if testing.Short() {
		return 200
	}
	return 600
}

// TestDecodeQRCorpus decodes our own codes of many realistic tokens at the
// sizes the product serves: every one must read back exactly.
func TestDecodeQRCorpus(t *testing.T) {
	corpus := qrCorpus(t, qrCorpusLen())
	for _, size := range qrCorpusSizes {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			t.Parallel()
			failed := 0
			for i, content := range corpus {
				b, err := QRPNG(content, size)
				if err != nil {
					t.Fatal(err)
				}
				got, err := DecodeQR(bytes.NewReader(b))
				if err != nil || got != content {
					failed++
					if failed <= 3 {
						t.Errorf("code %d (%d bytes): %v", i, len(content), err)
					}
				}
			}
			t.Logf("%d of %d codes failed to decode at %d px", failed, len(corpus), size)
			if failed > 0 {
				t.Errorf("%d of %d codes failed to decode at %d px", failed, len(corpus), size)
			}
		})
	}
}

// TestQRCorpusZbarimg checks the images TestDecodeQRCorpus decodes with an
// independent decoder, ZBar: it must read every one, so that a failure of
// DecodeQR is a fault of the decoder, not of the image. It checks the
// first quarter of the corpus (zbarimg is slow), which holds a share of
// the codes zxing's detector misreads.
func TestQRCorpusZbarimg(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not found; install zbar-tools to check QR codes with an independent decoder")
	}
	corpus := qrCorpus(t, qrCorpusLen())[:qrCorpusLen()/4]
	dir := t.TempDir()
	for _, size := range qrCorpusSizes {
		files := make([]string, len(corpus))
		for i, content := range corpus {
			b, err := QRPNG(content, size)
			if err != nil {
				t.Fatal(err)
			}
			files[i] = filepath.Join(dir, fmt.Sprintf("qr%d-%04d.png", size, i))
			if err := os.WriteFile(files[i], b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		// One symbol per image, printed in the order of the files; an
		// image zbarimg cannot read prints nothing and makes it exit 4.
		out, err := exec.Command(zbar, append([]string{"--raw", "-q", "-Sdisable", "-Sqrcode.enable"}, files...)...).Output()
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		if err != nil || len(lines) != len(corpus) {
			t.Errorf("%d px: zbarimg read %d of %d images: %v", size, len(lines), len(corpus), err)
			continue
		}
		wrong := 0
		for i, got := range lines {
			if got != corpus[i] {
				wrong++
			}
		}
		t.Logf("%d px: zbarimg read %d images, %d wrongly", size, len(lines), wrong)
		if wrong > 0 {
			t.Errorf("%d px: zbarimg misread %d of %d images", size, wrong, len(corpus))
		}
	}
}
