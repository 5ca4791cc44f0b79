// Command vulncheck prepares and reads the vulnerability scan that CI runs
// (.ci/run). It has two subcommands:
//
//	vulncheck index -src DIR -dst DIR [-modified TIME]
//
// turns the OSV files of the golang.org/x/vulndb module (data/osv/*.json,
// fetched from the module proxy like any module) into the file layout that
// govulncheck -db file:///DIR reads: index/db.json, index/modules.json and
// ID/<id>.json. The modules index leaves out each entry's "fixed" hint,
// which only lets govulncheck skip reading entries: without it govulncheck
// reads every entry of a module it uses and decides from the entry's own
// version ranges, so nothing is missed.
//
//	vulncheck check -findings FILE -accepted FILE
//
// reads govulncheck's -format json output and fails (exit 1) on any
// advisory whose vulnerable code is reachable (called) from this code and
// whose ID is not in the accepted file (SECURITY.md, where each accepted
// advisory is listed with its mitigation). Advisories in modules or
// packages that are only imported, and never called, are reported but do
// not fail.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: vulncheck index -src DIR -dst DIR | vulncheck check -findings FILE -accepted FILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "index":
		fs := flag.NewFlagSet("index", flag.ExitOnError)
		src := fs.String("src", "", "folder of OSV files (the vulndb module's data/osv)")
		dst := fs.String("dst", "", "folder to write the database to")
		modified := fs.String("modified", "", "the database's modification time (RFC 3339), if later than every entry's")
		_ = fs.Parse(os.Args[2:])
		var at time.Time
		if *modified != "" {
			if at, err = time.Parse(time.RFC3339, *modified); err != nil {
				fmt.Fprintln(os.Stderr, "vulncheck index: -modified:", err)
				os.Exit(2)
			}
		}
		var n int
		n, err = buildIndex(*src, *dst, at)
		if err == nil {
			fmt.Printf("vulncheck index: %d entries written to %s\n", n, *dst)
		}
	case "check":
		fs := flag.NewFlagSet("check", flag.ExitOnError)
		findings := fs.String("findings", "", "govulncheck -format json output")
		accepted := fs.String("accepted", "SECURITY.md", "file listing the accepted advisories (GO-YYYY-NNNN) with their mitigations")
		_ = fs.Parse(os.Args[2:])
		err = checkFindings(*findings, *accepted, os.Stdout)
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vulncheck:", err)
		os.Exit(1)
	}
}

// osvEntry is the part of an OSV entry the index needs.
type osvEntry struct {
	ID        string    `json:"id"`
	Modified  time.Time `json:"modified"`
	Published time.Time `json:"published"`
	Affected  []struct {
		Package struct {
			Name string `json:"name"`
		} `json:"package"`
	} `json:"affected"`
}

type moduleVuln struct {
	ID       string    `json:"id"`
	Modified time.Time `json:"modified"`
}

type moduleMeta struct {
	Path  string       `json:"path"`
	Vulns []moduleVuln `json:"vulns"`
}

var idRe = regexp.MustCompile(`^GO-\d{4}-\d{4,}$`)

// buildIndex writes the database for the OSV files in src into dst and
// returns the number of entries.
func buildIndex(src, dst string, modified time.Time) (int, error) {
	if src == "" || dst == "" {
		return 0, errors.New("index needs -src and -dst")
	}
	names, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return 0, err
	}
	if len(names) == 0 {
		return 0, fmt.Errorf("no OSV files in %s", src)
	}
	if err := os.MkdirAll(filepath.Join(dst, "ID"), 0o755); err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Join(dst, "index"), 0o755); err != nil {
		return 0, err
	}
	modules := map[string]*moduleMeta{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return 0, err
		}
		var e osvEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		if !idRe.MatchString(e.ID) || filepath.Base(name) != e.ID+".json" {
			return 0, fmt.Errorf("%s: entry id %q does not match its file", name, e.ID)
		}
		// An entry's time in the index: when it was last changed, or
		// published if that is later (the repository's copies carry
		// zero times).
		at := e.Modified
		if e.Published.After(at) {
			at = e.Published
		}
		if at.After(modified) {
			modified = at
		}
		seen := map[string]bool{}
		for _, a := range e.Affected {
			path := a.Package.Name
			if path == "" || seen[path] {
				continue
			}
			seen[path] = true
			m := modules[path]
			if m == nil {
				m = &moduleMeta{Path: path}
				modules[path] = m
			}
			m.Vulns = append(m.Vulns, moduleVuln{ID: e.ID, Modified: at})
		}
		if err := os.WriteFile(filepath.Join(dst, "ID", e.ID+".json"), b, 0o644); err != nil {
			return 0, err
		}
	}
	list := make([]*moduleMeta, 0, len(modules))
	for _, m := range modules {
		sort.Slice(m.Vulns, func(i, j int) bool { return m.Vulns[i].ID < m.Vulns[j].ID })
		list = append(list, m)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	if err := writeJSON(filepath.Join(dst, "index", "modules.json"), list); err != nil {
		return 0, err
	}
	if err := writeJSON(filepath.Join(dst, "index", "db.json"), map[string]time.Time{"modified": modified.UTC()}); err != nil {
		return 0, err
	}
	return len(names), nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// message is one object of govulncheck's JSON stream; only findings
// matter here.
type message struct {
	Finding *struct {
		OSV          string `json:"osv"`
		FixedVersion string `json:"fixed_version"`
		Trace        []struct {
			Module   string `json:"module"`
			Version  string `json:"version"`
			Package  string `json:"package"`
			Function string `json:"function"`
		} `json:"trace"`
	} `json:"finding"`
}

// checkFindings reports the findings and fails on reachable advisories
// that the accepted file does not list.
func checkFindings(findingsPath, acceptedPath string, out io.Writer) error {
	f, err := os.Open(findingsPath)
	if err != nil {
		return err
	}
	defer f.Close()
	accepted, err := os.ReadFile(acceptedPath)
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, id := range regexp.MustCompile(`GO-\d{4}-\d{4,}`).FindAllString(string(accepted), -1) {
		listed[id] = true
	}
	reachable, imported := map[string]string{}, map[string]bool{}
	dec := json.NewDecoder(bufio.NewReader(f))
	messages := 0
	for {
		var m message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return fmt.Errorf("reading %s: %w", findingsPath, err)
		}
		messages++
		if m.Finding == nil || len(m.Finding.Trace) == 0 {
			continue
		}
		top := m.Finding.Trace[0]
		if top.Function == "" {
			imported[m.Finding.OSV] = true
			continue
		}
		fixed := m.Finding.FixedVersion
		if fixed == "" {
			fixed = "no fix yet"
		}
		reachable[m.Finding.OSV] = fmt.Sprintf("%s@%s %s.%s (fixed: %s)", top.Module, top.Version, top.Package, top.Function, fixed)
	}
	if messages == 0 {
		return fmt.Errorf("%s holds no govulncheck output", findingsPath)
	}
	var failed []string
	ids := make([]string, 0, len(reachable))
	for id := range reachable {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var buf bytes.Buffer
	for _, id := range ids {
		state := "ACCEPTED (SECURITY.md)"
		if !listed[id] {
			state = "NOT ACCEPTED"
			failed = append(failed, id)
		}
		fmt.Fprintf(&buf, "reachable %s: %s: %s\n", id, reachable[id], state)
	}
	for id := range imported {
		if reachable[id] == "" {
			fmt.Fprintf(&buf, "imported, not called: %s\n", id)
		}
	}
	fmt.Fprintf(&buf, "%d reachable advisories, %d not accepted\n", len(ids), len(failed))
	if _, err := out.Write(buf.Bytes()); err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("reachable advisories not listed with a mitigation in %s: %s", acceptedPath, strings.Join(failed, ", "))
	}
	return nil
}
