package verify

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skillreg/skillreg/registry"
)

func TestQRRoundTrip(t *testing.T) {
	tok := mustSign(t, staticTokens(t, testKey(1, true)), validClaims, "")
	for _, tt := range []struct {
		name, content string
		size          int
	}{
		{"short text", "hello", 256},
		{"token URL", VerifyURL("http://127.0.0.1:8080", tok), 512},
		{"worst-case URL", VerifyURL("https://zscx.hrss.example.gov.cn", worstCaseToken()), 600},
		{"chinese text", "职业技能等级证书 张*三", 300},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, err := QRPNG(tt.content, tt.size)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeQR(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("DecodeQR: %v", err)
			}
			if got != tt.content {
				t.Errorf("decoded %q, want %q", got, tt.content)
			}
			// The same code after a trip through JPEG, as from a phone.
			img, _ := png.Decode(bytes.NewReader(b))
			var jb bytes.Buffer
			if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 75}); err != nil {
				t.Fatal(err)
			}
			if got, err := DecodeQR(&jb); err != nil || got != tt.content {
				t.Errorf("from JPEG: %q, %v", got, err)
			}
		})
	}
}

func TestQRPNGSizeAndLimits(t *testing.T) {
	for _, tt := range []struct{ size, want int }{{10, MinQRSize}, {256, 256}, {1 << 20, MaxQRSize}, {-5, MinQRSize}} {
		b, err := QRPNG("https://example.org/v/x", tt.size)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Width != tt.want || cfg.Height != tt.want {
			t.Errorf("size %d gave %dx%d, want %d", tt.size, cfg.Width, cfg.Height, tt.want)
		}
	}
	long := strings.Repeat("a", 400)
	if v, _ := QRVersion(long); v <= MaxQRVersion {
		t.Fatalf("400 bytes need only version %d", v)
	}
	if _, err := QRPNG(long, 256); registry.ErrorCode(err) != registry.ETOOLARGE {
		t.Errorf("QRPNG of 400 bytes: %v, want ETOOLARGE", err)
	}
	if _, err := QRPNG("", 256); registry.ErrorCode(err) != registry.EINVALID {
		t.Errorf("QRPNG of nothing: %v, want EINVALID", err)
	}
	for content, want := range map[string]int{"a": 1, strings.Repeat("a", 331): 13, strings.Repeat("a", 332): 14} {
		if v, err := QRVersion(content); err != nil || v != want {
			t.Errorf("QRVersion(%d bytes) = %d, %v; want %d", len(content), v, err, want)
		}
	}
}

func TestDecodeQRErrors(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range blank.Pix {
		blank.Pix[i] = 0xff
	}
	var blankPNG bytes.Buffer
	png.Encode(&blankPNG, blank)
	noise := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(i * 7919 % 251)
	}
	var noisePNG bytes.Buffer
	png.Encode(&noisePNG, noise)
	// A header claiming a huge image, to check it is refused before decoding.
	huge := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	huge.Set(0, 0, color.White)
	var hugePNG bytes.Buffer
	png.Encode(&hugePNG, huge)
	hb := hugePNG.Bytes()
	binary.BigEndian.PutUint32(hb[16:20], 12288) // IHDR width
	binary.BigEndian.PutUint32(hb[29:33], crc32.ChecksumIEEE(hb[12:29]))
	for _, tt := range []struct {
		name string
		in   []byte
		code string
		msg  string
	}{
		{"blank image", blankPNG.Bytes(), registry.EINVALID, "no QR code"},
		{"noise", noisePNG.Bytes(), registry.EINVALID, "QR code"},
		{"not an image", []byte("GIF89a? no, plain text"), registry.EINVALID, "PNG or JPEG"},
		{"empty", nil, registry.EINVALID, "PNG or JPEG"},
		{"huge", hb, registry.ETOOLARGE, "pixels"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := DecodeQR(bytes.NewReader(tt.in))
			if err == nil {
				t.Fatalf("decoded %q", s)
			}
			if registry.ErrorCode(err) != tt.code || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %v, want %s mentioning %q", err, tt.code, tt.msg)
			}
		})
	}
}

// TestQRZbarimg checks our codes with an independent decoder, ZBar, the
// one many scanning apps are built on.
func TestQRZbarimg(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not found; install zbar-tools (apt-get install zbar-tools) to check QR codes with an independent decoder")
	}
	tok := mustSign(t, staticTokens(t, testKey(1, true)), validClaims, "")
	for _, content := range []string{
		VerifyURL("http://127.0.0.1:8080", tok),
		VerifyURL("https://zscx.hrss.example.gov.cn", worstCaseToken()),
	} {
		b, err := QRPNG(content, 400)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "--raw", "-q", f).Output()
		if err != nil {
			t.Fatalf("zbarimg: %v", err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != content {
			t.Errorf("zbarimg read %q, want %q", got, content)
		}
		t.Logf("zbarimg read %d bytes correctly", len(content))
	}
}
