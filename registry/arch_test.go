package registry_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// parseDir parses the non-test Go files of one directory.
func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return files
}

// domainDirs are the domain's packages: registry and the statistics it
// calls (registry/stats). The rules below hold in each.
var domainDirs = []string{".", "stats"}

// TestStoreInterfacesAreSmall keeps every interface the domain declares
// readable at a glance: Store is made of interfaces by concern, each with
// at most a dozen methods of its own.
func TestStoreInterfacesAreSmall(t *testing.T) {
	for _, dir := range domainDirs {
		testInterfacesSmall(t, dir)
	}
}

func testInterfacesSmall(t *testing.T, dir string) {
	const max = 12
	seen := 0
	for _, f := range parseDir(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			ts, ok := n.(*ast.TypeSpec)
			if !ok {
				return true
			}
			it, ok := ts.Type.(*ast.InterfaceType)
			if !ok {
				return true
			}
			seen++
			methods := 0
			for _, m := range it.Methods.List {
				if _, isFunc := m.Type.(*ast.FuncType); isFunc {
					methods += len(m.Names)
				}
			}
			if methods > max {
				t.Errorf("%s: interface %s declares %d methods; split it by concern (at most %d)", dir, ts.Name.Name, methods, max)
			}
			return true
		})
	}
	if least := map[string]int{".": 8, "stats": 5}[dir]; seen < least {
		t.Fatalf("found only %d interfaces in %s; is the test reading the right folder?", seen, dir)
	}
}

// TestDomainImportsNoStorage keeps database drivers, bson and the web
// framework out of the domain packages, and registry out of
// registry/stats, so that the domain calls the statistics and not the
// other way round.
func TestDomainImportsNoStorage(t *testing.T) {
	banned := []string{"database/sql", "go.mongodb.org/", "modernc.org/sqlite", "github.com/labstack/echo", "github.com/golang-jwt/jwt"}
	for _, dir := range domainDirs {
		for _, f := range parseDir(t, dir) {
			for _, imp := range f.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, b := range banned {
					if strings.HasPrefix(path, b) {
						t.Errorf("%s imports %s", dir, path)
					}
				}
				if dir == "stats" && path == "github.com/skillreg/skillreg/registry" {
					t.Errorf("registry/stats imports registry; the domain calls the statistics, not the reverse")
				}
			}
		}
	}
}

// TestCommandsUseCapabilities keeps cmd/ from reaching a concrete store by
// type assertion: what a command needs beyond Store is a named capability
// (registry/capabilities.go).
func TestCommandsUseCapabilities(t *testing.T) {
	for _, f := range parseDir(t, filepath.Join("..", "cmd", "skillreg")) {
		ast.Inspect(f, func(n ast.Node) bool {
			ta, ok := n.(*ast.TypeAssertExpr)
			if !ok || ta.Type == nil {
				return true
			}
			star, ok := ta.Type.(*ast.StarExpr)
			if !ok {
				return true
			}
			if sel, ok := star.X.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && (pkg.Name == "sqlite" || pkg.Name == "mongo") {
					t.Errorf("cmd/skillreg asserts the concrete type *%s.%s", pkg.Name, sel.Sel.Name)
				}
			}
			return true
		})
	}
}

// TestDomainHasNoStorageTags keeps storage shapes in the store packages:
// no struct in registry or registry/stats carries a bson tag; the MongoDB store converts
// domain types to its own documents.
func TestDomainHasNoStorageTags(t *testing.T) {
	for _, dir := range domainDirs {
		testNoStorageTags(t, dir)
	}
}

// TestStatsTypesHaveNoTags keeps registry/stats free of struct tags:
// nothing encodes its types as they are. The handlers answer with their
// own types (handlers/stats_json.go) and each store keeps its own stored
// shapes (registry/sqlite/stats_rows.go, the documents in
// registry/mongo/stats.go).
func TestStatsTypesHaveNoTags(t *testing.T) {
	for _, f := range parseDir(t, "stats") {
		ast.Inspect(f, func(n ast.Node) bool {
			if field, ok := n.(*ast.Field); ok && field.Tag != nil {
				name := "embedded field"
				if len(field.Names) > 0 {
					name = field.Names[0].Name
				}
				t.Errorf("stats: field %s has the tag %s; give the encoder its own type", name, field.Tag.Value)
			}
			return true
		})
	}
}

func testNoStorageTags(t *testing.T, dir string) {
	for _, f := range parseDir(t, dir) {
		ast.Inspect(f, func(n ast.Node) bool {
			field, ok := n.(*ast.Field)
			if !ok || field.Tag == nil {
				return true
			}
			tag, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				tag = field.Tag.Value
			}
			if strings.Contains(tag, "bson:") {
				name := "embedded field"
				if len(field.Names) > 0 {
					name = field.Names[0].Name
				}
				t.Errorf("%s: field %s has the storage tag %q; put the stored shape in the store package", dir, name, tag)
			}
			return true
		})
	}
}
