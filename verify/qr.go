package verify

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // DecodeQR reads phone photos
	_ "image/png"
	"io"

	"github.com/makiuchi-d/gozxing"
	gzqrcode "github.com/makiuchi-d/gozxing/qrcode"
	gzdecoder "github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/skillreg/skillreg/registry"
	"github.com/skip2/go-qrcode"
)

// MaxQRVersion is the largest QR version (69x69 modules) a certificate's
// code may need at error-correction level M. Printed about 25 mm wide in a
// corner of an A4 certificate, that is still a module of over 0.3 mm, which
// ordinary phone cameras (and WeChat's scanner) read reliably; a bigger
// version would need a bigger print or fail on worn paper.
const MaxQRVersion = 13

// QR image sizes, in pixels, that QRPNG clamps to.
const (
	MinQRSize = 64
	MaxQRSize = 2048
)

// Limits on images given to DecodeQR, so that an upload cannot make the
// server decode a gigapixel image.
const (
	maxQRImageBytes  = 20 << 20
	maxQRImageSide   = 8192
	maxQRImagePixels = 40_000_000
)

// QRVersion returns the QR version that content needs at error-correction
// level M.
func QRVersion(content string) (int, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return 0, registry.Errorf(registry.EINVALID, "cannot encode %d bytes as a QR code: %v", len(content), err)
	}
	return q.VersionNumber, nil
}

// QRPNG returns a PNG QR code for content at error-correction level M,
// size pixels wide (clamped to MinQRSize..MaxQRSize). Content that needs a
// version above MaxQRVersion is an ETOOLARGE *registry.Error.
func QRPNG(content string, size int) ([]byte, error) {
	q, err := qrcode.New(content, qrcode.Medium)
	if err != nil {
		return nil, registry.Errorf(registry.EINVALID, "cannot encode %d bytes as a QR code: %v", len(content), err)
	}
	if q.VersionNumber > MaxQRVersion {
		return nil, registry.Errorf(registry.ETOOLARGE, "%d bytes need QR version %d; at most %d prints legibly", len(content), q.VersionNumber, MaxQRVersion)
	}
	size = max(MinQRSize, min(size, MaxQRSize))
	png, err := q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("verify: encoding QR PNG: %w", err)
	}
	return png, nil
}

// DecodeQR reads a PNG or JPEG image (e.g. a phone photo of a certificate)
// and returns the text of the QR code in it. An image that cannot be
// read, is too large or holds no readable QR code is an EINVALID or
// ETOOLARGE *registry.Error.
func DecodeQR(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxQRImageBytes+1))
	if err != nil {
		return "", fmt.Errorf("verify: reading image: %w", err)
	}
	if len(b) > maxQRImageBytes {
		return "", registry.Errorf(registry.ETOOLARGE, "the image is larger than %d MiB", maxQRImageBytes>>20)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return "", registry.Errorf(registry.EINVALID, "not a PNG or JPEG image")
	}
	if cfg.Width > maxQRImageSide || cfg.Height > maxQRImageSide || cfg.Width*cfg.Height > maxQRImagePixels {
		return "", registry.Errorf(registry.ETOOLARGE, "the image is %dx%d pixels; at most %d on a side and %d megapixels", cfg.Width, cfg.Height, maxQRImageSide, maxQRImagePixels/1_000_000)
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return "", registry.Errorf(registry.EINVALID, "the image cannot be decoded: %v", err)
	}
	// zxing's detector and its PURE_BARCODE reader both assume modules of
	// one width, so they misread a share of clean, generated codes whose
	// modules are unevenly wide (a code of 77 modules drawn 320 px wide has
	// modules of 4 and 5 pixels), which zbar reads. Try the common
	// strategies in turn, then a reader for such codes, before giving up.
	var lastErr error
	for _, attempt := range qrAttempts {
		text, err := attempt(img)
		if err == nil {
			return text, nil
		}
		lastErr = err
	}
	var nf gozxing.NotFoundException
	if errors.As(lastErr, &nf) {
		return "", registry.Errorf(registry.EINVALID, "no QR code found in the image")
	}
	return "", registry.Errorf(registry.EINVALID, "the QR code in the image cannot be read: %v", lastErr)
}

// qrHints are the zxing hints of every attempt. Our codes hold URLs;
// without CHARACTER_SET zxing guesses the charset of byte-mode data and may
// guess wrong.
func qrHints(pure bool) map[gozxing.DecodeHintType]any {
	h := map[gozxing.DecodeHintType]any{
		gozxing.DecodeHintType_TRY_HARDER:    true,
		gozxing.DecodeHintType_CHARACTER_SET: "UTF-8",
	}
	if pure {
		h[gozxing.DecodeHintType_PURE_BARCODE] = true
	}
	return h
}

func decodeWith(img image.Image, newBinarizer func(gozxing.LuminanceSource) gozxing.Binarizer, pure bool) (string, error) {
	bmp, err := gozxing.NewBinaryBitmap(newBinarizer(gozxing.NewLuminanceSourceFromImage(img)))
	if err != nil {
		return "", err
	}
	res, err := gzqrcode.NewQRCodeReader().Decode(bmp, qrHints(pure))
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// qrAttempts are tried in order: the hybrid binarizer suits photos, the
// global histogram suits flat scans, and PURE_BARCODE reads a generated
// image (ours, or a screenshot of it) without the finder-pattern search.
var qrAttempts = []func(image.Image) (string, error){
	func(img image.Image) (string, error) { return decodeWith(img, gozxing.NewHybridBinarizer, false) },
	func(img image.Image) (string, error) {
		return decodeWith(img, gozxing.NewGlobalHistgramBinarizer, false)
	},
	func(img image.Image) (string, error) { return decodeWith(img, gozxing.NewHybridBinarizer, true) },
	decodeGrid,
}

// decodeGrid reads an upright, unskewed code (a generated image, a
// screenshot or a flat scan) whose modules may be of uneven whole-pixel
// widths: it takes the bounding box of the dark pixels as the symbol and,
// for each QR size (21 to 177 modules), samples the middle of every
// module on an evenly spaced fractional grid and lets zxing's decoder, with
// its format, version and error-correction checks, accept or refuse it.
func decodeGrid(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(gozxing.NewLuminanceSourceFromImage(img)))
	if err != nil {
		return "", err
	}
	m, err := bmp.GetBlackMatrix()
	if err != nil {
		return "", err
	}
	left, top, right, bottom := m.GetWidth(), m.GetHeight(), -1, -1
	for y := 0; y < m.GetHeight(); y++ {
		for x := 0; x < m.GetWidth(); x++ {
			if m.Get(x, y) {
				left, right = min(left, x), max(right, x)
				top, bottom = min(top, y), max(bottom, y)
			}
		}
	}
	w, h := right-left+1, bottom-top+1
	if right < 0 || w < 21 || h < 21 || abs(w-h) > max(2, w/50) {
		return "", gozxing.NewNotFoundException("no square symbol")
	}
	dec := gzdecoder.NewDecoder()
	lastErr := error(gozxing.NewNotFoundException("no QR size fits"))
	for n := 21; n <= 177 && n <= min(w, h); n += 4 {
		bits, _ := gozxing.NewBitMatrix(n, n)
		for j := range n {
			y := top + int((float64(j)+0.5)*float64(h)/float64(n))
			for i := range n {
				if m.Get(left+int((float64(i)+0.5)*float64(w)/float64(n)), y) {
					bits.Set(i, j)
				}
			}
		}
		res, err := dec.Decode(bits, qrHints(true))
		if err == nil {
			return res.GetText(), nil
		}
		lastErr = err
	}
	return "", lastErr
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
