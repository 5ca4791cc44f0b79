package handlers_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests drive Debian's chromium (apt-get install chromium;
// .ci/run installs it) at a phone's viewport, 390x844 CSS pixels. They
// skip, saying why, when no chromium binary is found. Screenshots go to
// $SKILLREG_SCREENSHOTS when set (to look at them), else to a temporary
// directory.

const phoneWidth, phoneHeight = 390, 844

// chromiumPath finds a Chromium: $SKILLREG_CHROMIUM, or the usual names.
func chromiumPath() string {
	if p := os.Getenv("SKILLREG_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts a headless Chromium with a fresh profile, no network
// beyond the test server, and a phone-sized window, and returns a tab.
// Its console is collected: console() returns the messages so far.
func browser(t *testing.T, flags ...chromedp.ExecAllocatorOption) (ctx context.Context, console func() []string) {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		t.Skip("no chromium binary found (apt-get install chromium, or set SKILLREG_CHROMIUM): skipping the browser test")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(phoneWidth, phoneHeight),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("lang", "zh-CN"),
	)
	opts = append(opts, flags...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a timeout
		t.Fatalf("starting %s: %v", bin, err)
	}
	var mu sync.Mutex
	var msgs []string
	msgCtx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	stream := chromedp.Console(msgCtx)
	go func() {
		for m, err := range stream {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m.String()+" ("+m.URL+")")
			mu.Unlock()
		}
	}()
	// A hang guard only: a browser on a busy machine may be slow.
	tctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(cancelT)
	return tctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), msgs...)
	}
}

// phone sets the 390x844 portrait, touch, mobile viewport.
func phone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulatePortrait, chromedp.EmulateMobile, chromedp.EmulateTouch)
}

// screenshot saves a full-page PNG and checks it is one, phone-wide.
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	path, height := shotAt(t, ctx, name, phoneWidth)
	if height < phoneHeight {
		t.Errorf("screenshot %s is %d high, want at least %d", name, height, phoneHeight)
	}
	return path
}

// shotAt saves a full-page PNG of the current page in $SKILLREG_SCREENSHOTS
// (to look at them) or else a temporary directory, checks that it is a
// non-empty PNG w pixels wide, logs its path, and returns the path and the
// height.
func shotAt(t *testing.T, ctx context.Context, name string, w int) (string, int) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot %s is not a PNG: %v", name, err)
	}
	if cfg.Width != w {
		t.Errorf("screenshot %s is %d px wide, want %d", name, cfg.Width, w)
	}
	dir := os.Getenv("SKILLREG_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("screenshot %s empty: %v", path, err)
	}
	t.Logf("screenshot: %s (%dx%d)", path, cfg.Width, cfg.Height)
	return path, cfg.Height
}

// checkFits fails when the page is wider than the phone's screen.
func checkFits(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil {
		t.Fatal(err)
	}
	if w > phoneWidth {
		t.Errorf("%s scrolls sideways: %d px wide on a %d px screen", what, w, phoneWidth)
	}
}

// checkConsole fails on script errors and CSP violations.
func checkConsole(t *testing.T, msgs []string) {
	t.Helper()
	for _, m := range msgs {
		l := strings.ToLower(m)
		if strings.Contains(l, "content security policy") || strings.Contains(l, "exception") || strings.HasPrefix(l, "error") {
			t.Errorf("browser console: %s", m)
		}
	}
}

// TestScanUploadInBrowser: on a 390x844 phone screen, an employer opens
// /scan, picks the photo of a real certificate's QR code in the upload
// form, submits, and sees 有效 with the certificate number.
func TestScanUploadInBrowser(t *testing.T) {
	ctx, console := browser(t)
	h := newHarness(t)
	c := issueOne(h)
	qr := h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/qr.png?size=640", c.issuerToken, nil), 200).body
	photo := filepath.Join(t.TempDir(), "certificate-qr.png")
	if err := os.WriteFile(photo, qr, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx,
		phone(),
		chromedp.Navigate(h.url+"/scan"),
		chromedp.WaitVisible(chromedp.ID("upload-form")),
	); err != nil {
		t.Fatal(err)
	}
	// With a camera API present, the script shows the camera section.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("scan-start"))); err != nil {
		t.Fatalf("the camera button never showed: %v", err)
	}
	checkFits(t, ctx, "/scan")
	screenshot(t, ctx, "scan-390x844.png")

	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("photo"), []string{photo}),
		chromedp.Click(chromedp.ID("upload-submit")),
		chromedp.WaitVisible(chromedp.CSS(`section.verdict[data-status]`)),
	); err != nil {
		t.Fatal(err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".verdict .status")))
	if err != nil {
		t.Fatal(err)
	}
	number, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("cert-number")))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(status) != "有效" || strings.TrimSpace(number) != c.number || loc != h.url+"/scan/upload" {
		t.Fatalf("verdict %q, number %q at %s; want 有效, %s at /scan/upload", status, number, loc, c.number)
	}
	checkFits(t, ctx, "the verdict page")
	screenshot(t, ctx, "verdict-upload-390x844.png")
	checkConsole(t, console())
}

// y4m writes img (grey) centred on a white 640x480 frame as a one-frame
// YUV4MPEG2 file, which Chromium's fake camera plays in a loop.
func y4m(t *testing.T, img image.Image, path string) {
	t.Helper()
	const w, h = 640, 480
	var buf bytes.Buffer
	buf.WriteString("YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\nFRAME\n")
	b := img.Bounds()
	ox, oy := (w-b.Dx())/2, (h-b.Dy())/2
	for y := range h {
		for x := range w {
			lum := byte(0xff)
			if p := image.Pt(x-ox+b.Min.X, y-oy+b.Min.Y); p.In(b) {
				r, g, bl, _ := img.At(p.X, p.Y).RGBA()
				lum = byte((299*r + 587*g + 114*bl) / 1000 >> 8)
			}
			buf.WriteByte(lum)
		}
	}
	buf.Write(bytes.Repeat([]byte{128}, w*h/2)) // U and V: no colour
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestScanCameraInBrowser: the camera path. Chromium's fake camera shows
// a real certificate's QR code; the page decodes it in the browser (jsQR,
// since Linux Chromium has no BarcodeDetector) and goes to the verdict.
func TestScanCameraInBrowser(t *testing.T) {
	if chromiumPath() == "" {
		t.Skip("no chromium binary found (apt-get install chromium, or set SKILLREG_CHROMIUM): skipping the browser test")
	}
	h := newHarness(t)
	c := issueOne(h)
	qr := h.expect(h.do("GET", "/api/v1/certificates/"+c.number+"/qr.png?size=400", c.issuerToken, nil), 200).body
	img, err := png.Decode(bytes.NewReader(qr))
	if err != nil {
		t.Fatal(err)
	}
	video := filepath.Join(t.TempDir(), "camera.y4m")
	y4m(t, img, video)
	ctx, console := browser(t,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video),
	)
	if err := chromedp.Do(ctx,
		phone(),
		chromedp.Navigate(h.url+"/scan"),
		chromedp.WaitVisible(chromedp.ID("scan-start")),
		chromedp.Click(chromedp.ID("scan-start")),
		chromedp.WaitVisible(chromedp.CSS(`section.verdict[data-status]`)),
	); err != nil {
		t.Fatalf("%v; console: %q", err, console())
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".verdict .status")))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(status) != "有效" || loc != h.url+"/v/"+c.token {
		t.Fatalf("verdict %q at %s; want 有效 at the certificate's verify URL", status, loc)
	}
	screenshot(t, ctx, "verdict-camera-390x844.png")
	checkConsole(t, console())
}
