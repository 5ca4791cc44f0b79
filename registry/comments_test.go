package registry_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// workItemLabel matches a comment that labels code with a tracker
// reference instead of saying what the code does: a tracker word and a
// number, or a product-area word and a quoted name (the regular
// expression below spells the words). TestWorkItemLabelMatches has
// examples.
var workItemLabel = regexp.MustCompile(`(?i)\b(issue|ticket)\s*#?\d+|\bfeature\s+"`)

func TestWorkItemLabelMatches(t *testing.T) {
	for text, want := range map[string]bool{
		"// employers (issue 6): API keys":        true,
		"// see Issue #12":                        true,
		`// TrainingRecordID: feature "portal".`:  true,
		"// ticket 3":                             true,
		"// Issue issues a certificate":           false,
		"// the issuer 12 of them; issued 2024":   false,
		"// a feature of the status list (bit 0)": false,
		"// reissue 2 certificates":               false,
	} {
		if got := workItemLabel.MatchString(text); got != want {
			t.Errorf("workItemLabel on %q = %v, want %v", text, got, want)
		}
	}
}

// TestCommentsDescribeCode keeps Go comments about the code itself: a
// section header that is only a number or a label says nothing to someone
// reading the file. Every Go file of the module is read,
// tests included (nested modules, such as internal/mongowire, are their
// own).
func TestCommentsDescribeCode(t *testing.T) {
	root := ".."
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root {
				if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" {
					return filepath.SkipDir
				}
				if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		files++
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if m := workItemLabel.FindString(c.Text); m != "" {
					t.Errorf("%s: comment names %q; say what the code is about instead", fset.Position(c.Pos()), m)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read only %d Go files; is the test walking the module?", files)
	}
}
