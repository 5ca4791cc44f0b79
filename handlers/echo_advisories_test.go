package handlers_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skillreg/skillreg/ratelimit"
)

// TestEchoClientAddressAdvisories keeps true the mitigations SECURITY.md
// gives for echo v4's two advisories about client addresses (a rate
// limiter keyed on a spoofed X-Forwarded-For; the proxy middleware
// forwarding an attacker's X-Real-IP), which govulncheck reports for any
// use of echo v4: without trusted proxies the client is the TCP peer, so
// neither header moves a request to another rate-limit bucket; and no
// code of ours uses echo's proxy middleware or reads X-Real-IP.
func TestEchoClientAddressAdvisories(t *testing.T) {
	t.Run("spoofed client headers do not escape a limit", func(t *testing.T) {
		h := newHarness(t, withLimits(ratelimit.Limits{Verify: ratelimit.Rate{N: 3, Per: time.Minute}}, newFrozenClock()))
		c := issueOne(h)
		headers := [][]string{
			{"X-Forwarded-For", "198.51.100.1"},
			{"X-Real-IP", "198.51.100.2"},
			{"X-Forwarded-For", "198.51.100.3", "X-Real-IP", "198.51.100.4"},
		}
		for i, hd := range headers {
			if got := h.do("GET", "/v/"+c.token, "", nil, append([]string{"Accept", "application/json"}, hd...)...).status; got != 200 {
				t.Fatalf("request %d: %d", i, got)
			}
		}
		for _, hd := range [][]string{{"X-Real-IP", "203.0.113.9"}, {"X-Forwarded-For", "203.0.113.10"}} {
			if got := h.do("GET", "/v/"+c.token, "", nil, append([]string{"Accept", "application/json"}, hd...)...).status; got != 429 {
				t.Fatalf("a fresh %s from an untrusted peer got %d, want 429 (the header must be ignored)", hd[0], got)
			}
		}
	})
	t.Run("no proxy middleware, no X-Real-IP", func(t *testing.T) {
		banned := map[string]string{
			"Proxy": "echo's proxy middleware", "ProxyWithConfig": "echo's proxy middleware", "ProxyConfig": "echo's proxy middleware",
			"NewRoundRobinBalancer": "echo's proxy middleware", "NewRandomBalancer": "echo's proxy middleware",
			"ExtractIPFromRealIPHeader": "the X-Real-IP extractor", "HeaderXRealIP": "the X-Real-IP header",
		}
		files := 0
		err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != ".." {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			files++
			echoNames := map[string]bool{}
			for _, imp := range f.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				if strings.HasPrefix(p, "github.com/labstack/echo/") {
					name := filepath.Base(p)
					if p == "github.com/labstack/echo/v4" {
						name = "echo"
					}
					if imp.Name != nil {
						name = imp.Name.Name
					}
					echoNames[name] = true
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && echoNames[id.Name] {
					if what, bad := banned[sel.Sel.Name]; bad {
						t.Errorf("%s uses %s.%s (%s): SECURITY.md's mitigation of the echo advisories says we do not", path, id.Name, sel.Sel.Name, what)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if files < 50 {
			t.Fatalf("scanned only %d Go files; is the walk rooted at the repository?", files)
		}
	})
}
