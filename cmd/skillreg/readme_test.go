package main

// TestREADME keeps the README true: it runs the README's shell blocks, in
// order and as written, against a fresh server, so that a change of API or
// of a command that forgets the README fails here.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Markers on the line before a ```sh fence: readmeRun blocks are run in
// order in one bash session; the one readmeServer block starts the server
// they talk to.
const (
	readmeRun    = "<!-- readme-test -->"
	readmeServer = "<!-- readme-test: server -->"
)

// readmeBlock is one fenced shell block of the README.
type readmeBlock struct {
	line    int    // of the opening fence, 1-based
	section string // the "## " heading it is under
	marker  string // readmeRun, readmeServer or ""
	text    string
}

// readmeBlocks returns every ```sh block of the README.
func readmeBlocks(readme string) []readmeBlock {
	var blocks []readmeBlock
	lines := strings.Split(readme, "\n")
	section := ""
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "## ") {
			section = strings.TrimPrefix(l, "## ")
		}
		if strings.TrimSpace(l) != "```sh" {
			continue
		}
		b := readmeBlock{line: i + 1, section: section}
		if i > 0 {
			if m := strings.TrimSpace(lines[i-1]); m == readmeRun || m == readmeServer {
				b.marker = m
			}
		}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		b.text = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, b)
	}
	return blocks
}

// TestREADME: the README's shell blocks work as written, in order, on a
// fresh clone: it checks that they use the one build step's ./skillreg and
// that every section a newcomer follows has a tested block, then starts the
// server block's command on a temporary directory and a free port and runs
// the marked blocks in one `set -euo pipefail` bash session, where curl
// fails on any HTTP error.
func TestREADME(t *testing.T) {
	t.Parallel() // its own directories, port and environment
	var missing []string
	for _, tool := range []string{"bash", "curl", "jq"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		t.Skipf("TestREADME runs the README's shell blocks and needs bash, curl and jq; missing: %s (.ci/run installs curl and jq)", strings.Join(missing, ", "))
	}
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	blocks := readmeBlocks(readme)

	// The README's own rules: one build step, then ./skillreg everywhere.
	if n := strings.Count(readme, "go build -o skillreg ./cmd/skillreg"); n != 1 {
		t.Errorf("the README shows the build step `go build -o skillreg ./cmd/skillreg` %d times, want once", n)
	}
	if strings.Contains(readme, "go run ./cmd/skillreg") {
		t.Errorf("the README uses `go run ./cmd/skillreg`; later sections use the built ./skillreg")
	}
	bare := regexp.MustCompile(`(?m)(?:^|[\s;&|(])skillreg\s+[a-z]`)
	var server *readmeBlock
	for i, b := range blocks {
		if m := bare.FindString(b.text); m != "" {
			t.Errorf("README.md:%d: a block runs a bare `skillreg` (%q); use ./skillreg, which the build step makes", b.line, strings.TrimSpace(m))
		}
		if b.marker == readmeServer {
			if server != nil {
				t.Fatalf("README.md:%d: a second server block (the first is at line %d)", b.line, server.line)
			}
			server = &blocks[i]
		}
	}
	if server == nil {
		t.Fatalf("the README has no %s block", readmeServer)
	}
	for _, want := range []string{"Five-minute walkthrough", "Employers", "Batch import", "Training records",
		"Import without a server", "Dashboard", "Statistics", "Operations"} {
		found := false
		for _, b := range blocks {
			found = found || (b.marker == readmeRun && strings.Contains(b.section, want))
		}
		if !found {
			t.Errorf("no %s block in the README section %q", readmeRun, want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	// Fresh places for everything: the blocks' /tmp/skillreg-* paths go to
	// a temporary directory, the server to a free port, and the blocks run
	// in a directory of their own with ./skillreg the binary under test.
	work, tmp := t.TempDir(), t.TempDir()
	if err := os.Symlink(binPath, filepath.Join(work, "skillreg")); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	base := "http://" + addr
	subst := strings.NewReplacer("http://127.0.0.1:8080", base, "/tmp/skillreg-", tmp+"/skillreg-")

	// "On a fresh machine" first: its serve starts on the default data
	// directory (in the work directory) and is stopped, as a newcomer does
	// before the walkthrough, which must not depend on it.
	var first *readmeBlock
	for i, b := range blocks {
		if strings.Contains(b.text, "go build -o skillreg ./cmd/skillreg") {
			first = &blocks[i]
		}
	}
	if first == nil || !strings.Contains(first.text, "./skillreg serve") {
		t.Fatal("the README's build block does not start the server with ./skillreg serve")
	}
	var firstText strings.Builder
	for _, l := range strings.Split(first.text, "\n") {
		if strings.Contains(l, "./skillreg serve") {
			firstText.WriteString(l + "\n")
		}
	}
	firstOut, stopFirst := startREADMEServer(t, first.line, firstText.String(), work, subst, addr, base)
	if !strings.Contains(firstOut.String(), `Created user "admin"`) {
		t.Errorf("the first start did not create the admin:\n%s", firstOut.String())
	}
	stopFirst()

	// The walkthrough's server block, on the same port.
	srvOut, stopServer := startREADMEServer(t, server.line, server.text, work, subst, addr, base)
	t.Cleanup(stopServer)

	// The marked blocks, in order, in one session.
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	script.WriteString("curl() { command curl --fail-with-body --show-error \"$@\"; }\n")
	n := 0
	for _, b := range blocks {
		if b.marker != readmeRun {
			continue
		}
		n++
		fmt.Fprintf(&script, "echo; echo '== README.md:%d (%s)'\n", b.line, b.section)
		script.WriteString(subst.Replace(b.text))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a hang guard only
	defer cancel()
	out := &lockedBuffer{}
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir, cmd.Env = work, childEnv()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the README's blocks failed (%v); the last block started is the one that failed:\n%s\nserver:\n%s",
			err, tail(out.String(), 6000), tail(srvOut.String(), 3000))
	}
	for _, want := range []string{`"status":"valid"`, `"status":"revoked"`, "demo: 10000 certificates"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the README session's output lacks %s:\n%s", want, tail(out.String(), 6000))
		}
	}
	if strings.Contains(srvOut.String(), "is set but ignored") {
		t.Errorf("the walkthrough's server warned that its admin password was ignored:\n%s", srvOut.String())
	}
	t.Logf("ran %d README blocks against %s", n, base)
	if testing.Verbose() {
		t.Logf("the session's output:\n%s", out.String())
	}
}

// startREADMEServer runs a README block whose one `./skillreg serve` line
// is exec'ed on addr (after the block's other lines, with the README's
// paths and URLs substituted), in work, and waits until it is ready. It
// returns the server's output and a function that stops it with SIGTERM
// and waits for the exit (safe to call twice).
func startREADMEServer(t *testing.T, line int, text, work string, subst *strings.Replacer, addr, base string) (*lockedBuffer, func()) {
	t.Helper()
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	serves := 0
	for _, l := range strings.Split(subst.Replace(text), "\n") {
		if strings.Contains(l, "./skillreg serve") {
			serves++
			l = "exec env " + l + " --addr " + addr + " --public-url " + base
		}
		script.WriteString(l + "\n")
	}
	if serves != 1 {
		t.Fatalf("README.md:%d: the block has %d `./skillreg serve` lines, want 1", line, serves)
	}
	out := &lockedBuffer{}
	srv := exec.Command("bash", "-c", script.String())
	srv.Dir, srv.Env = work, childEnv()
	srv.Stdout, srv.Stderr = out, out
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = srv.Wait(); close(exited) }()
	stop := func() {
		select {
		case <-exited:
			return
		default:
		}
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(time.Minute): // a hang guard only
			_ = srv.Process.Kill()
			<-exited
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(hangGuard); ; {
		select {
		case <-exited:
			t.Fatalf("README.md:%d: the server exited:\n%s", line, out.String())
		case <-time.After(100 * time.Millisecond):
		}
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(out.String(), servingLine) {
				return out, stop
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("README.md:%d: the server was not ready within %v:\n%s", line, hangGuard, out.String())
		}
	}
}

// tail returns the last n bytes of s, at a line start.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return "…\n" + s
}

// TestREADMELayout: the README's Layout section names only directories
// that exist, and every Go package of the module, each top-level
// directory and each directory of the domain: a package is covered by its
// own line, or by a listed ancestor two levels deep or more (internal/gendata
// covers internal/gendata/refgen), or by a listed parent with no Go files of
// its own (bench/ covers bench/mixedload).
func TestREADMELayout(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i := strings.Index(readme, "\n## Layout\n")
	if i < 0 {
		t.Fatal("the README has no Layout section")
	}
	m := regexp.MustCompile("(?s)```\n(.*?)```").FindStringSubmatch(readme[i:])
	if m == nil {
		t.Fatal("the Layout section has no block")
	}
	root := filepath.Join("..", "..")
	listed := map[string]bool{}
	for _, l := range strings.Split(m[1], "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || !strings.HasSuffix(f[0], "/") || strings.HasPrefix(l, " ") {
			continue
		}
		dir := strings.TrimSuffix(f[0], "/")
		listed[dir] = true
		if fi, err := os.Stat(filepath.Join(root, dir)); err != nil || !fi.IsDir() {
			t.Errorf("the Layout lists %s/, which is not a directory of the tree", dir)
		}
	}
	hasGo := func(dir string) bool {
		names, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, n := range names {
			if !strings.HasSuffix(n, "_test.go") {
				return true
			}
		}
		return false
	}
	covered := func(dir string) bool {
		if listed[dir] {
			return true
		}
		parent := filepath.Dir(dir)
		if listed[parent] && !hasGo(parent) {
			return true
		}
		for d := parent; d != "."; d = filepath.Dir(d) {
			if listed[d] && strings.Count(d, "/") >= 1 {
				return true
			}
		}
		return false
	}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules" || name == "vendor") {
			return filepath.SkipDir
		}
		if rel == "." {
			return nil
		}
		if !strings.Contains(rel, "/") { // a top-level directory
			found := listed[rel]
			for l := range listed {
				found = found || strings.HasPrefix(l, rel+"/")
			}
			if !found {
				t.Errorf("the Layout does not mention the top-level directory %s/", rel)
			}
			return nil
		}
		if hasGo(rel) && !covered(rel) {
			t.Errorf("the Layout does not list the package directory %s/", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestArchitectureDoc: docs/architecture.md describes the tree that is
// there: every directory of the README's Layout, every interface that
// registry.Store embeds and every named store capability.
func TestArchitectureDoc(t *testing.T) {
	doc, err := os.ReadFile("../../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(readme), "\n## Layout\n")
	m := regexp.MustCompile("(?s)```\n(.*?)```").FindStringSubmatch(string(readme[max(i, 0):]))
	if i < 0 || m == nil {
		t.Fatal("the README has no Layout block")
	}
	for _, l := range strings.Split(m[1], "\n") {
		if f := strings.Fields(l); len(f) > 0 && strings.HasSuffix(f[0], "/") && !strings.HasPrefix(l, " ") {
			if !strings.Contains(string(doc), f[0]) {
				t.Errorf("docs/architecture.md does not mention %s", f[0])
			}
		}
	}
	var names []string
	for _, file := range []string{"model.go", "capabilities.go"} {
		src, err := os.ReadFile(filepath.Join("..", "..", "registry", file))
		if err != nil {
			t.Fatal(err)
		}
		if file == "model.go" {
			store := regexp.MustCompile(`(?s)type Store interface \{(.*?)\n\}`).FindSubmatch(src)
			if store == nil {
				t.Fatal("registry/model.go: no Store interface")
			}
			names = append(names, regexp.MustCompile(`(?m)^\t([A-Z]\w*)$`).FindAllString(string(store[1]), -1)...)
			continue
		}
		for _, s := range regexp.MustCompile(`(?m)^type ([A-Z]\w*) interface`).FindAllSubmatch(src, -1) {
			names = append(names, string(s[1]))
		}
	}
	if len(names) < 8 {
		t.Fatalf("found only %d store interfaces: %v", len(names), names)
	}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if !strings.Contains(string(doc), "`"+n+"`") {
			t.Errorf("docs/architecture.md does not name the store interface %s", n)
		}
	}
}
