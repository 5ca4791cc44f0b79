package handlers

import (
	"bytes"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// domainPkgs are the domain packages whose types must not reach the
// wire as they are: handlers shape every response in a type of their own.
var domainPkgs = map[string]string{
	"github.com/skillreg/skillreg/registry":       "registry",
	"github.com/skillreg/skillreg/registry/stats": "stats",
}

// TestResponsesAreHandlerTypes type-checks this package and fails if an
// argument of a c.JSON call is, or holds (through fields, pointers,
// slices, maps or the values of a composite literal), a struct type of
// a domain package: the domain type's field names would then define
// the wire format, and renaming a field there would change the API.
func TestResponsesAreHandlerTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the package with the go command")
	}
	fset := token.NewFileSet()
	files := parseHandlerFiles(t, fset)
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}, Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", exportLookup(t))}
	if _, err := conf.Check("github.com/skillreg/skillreg/handlers", fset, files, info); err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 2 || !isEchoJSON(info, call) {
				return true
			}
			calls++
			pos := fset.Position(call.Pos())
			check := func(e ast.Expr) {
				if tv, ok := info.Types[e]; ok {
					if name := domainStruct(tv.Type, map[types.Type]bool{}); name != "" {
						t.Errorf("%s:%d: c.JSON sends %s, which holds the domain type %s: convert it to a response type of this package", filepath.Base(pos.Filename), pos.Line, types.ExprString(e), name)
					}
				}
			}
			check(call.Args[1])
			ast.Inspect(call.Args[1], func(n ast.Node) bool {
				if lit, ok := n.(*ast.CompositeLit); ok {
					for _, el := range lit.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							el = kv.Value
						}
						check(el)
					}
				}
				return true
			})
			return true
		})
	}
	if calls < 30 {
		t.Fatalf("found %d c.JSON calls; the walk is missing them", calls)
	}
}

func parseHandlerFiles(t *testing.T, fset *token.FileSet) []*ast.File {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// exportLookup finds the compiled export data of this package's
// dependencies through the go command (which builds what is missing).
func exportLookup(t *testing.T) func(string) (io.ReadCloser, error) {
	t.Helper()
	cmd := exec.Command("go", "list", "-export", "-deps", "-f", "{{.ImportPath}}\t{{.Export}}", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	exports := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if path, file, ok := strings.Cut(line, "\t"); ok && file != "" {
			exports[path] = file
		}
	}
	return func(path string) (io.ReadCloser, error) {
		file, ok := exports[path]
		if !ok {
			return nil, os.ErrNotExist
		}
		return os.Open(file)
	}
}

// isEchoJSON reports whether call is the JSON method of an echo.Context.
func isEchoJSON(info *types.Info, call *ast.CallExpr) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "JSON" {
		return false
	}
	s, ok := info.Selections[sel]
	if !ok {
		return false
	}
	named, ok := s.Recv().(*types.Named)
	return ok && named.Obj().Pkg() != nil && named.Obj().Pkg().Path() == "github.com/labstack/echo/v4" && named.Obj().Name() == "Context"
}

// domainStruct returns the name of the first struct type of the domain
// package that t is or holds, or "".
func domainStruct(t types.Type, seen map[types.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		if obj := t.Obj(); obj.Pkg() != nil && domainPkgs[obj.Pkg().Path()] != "" {
			if _, ok := t.Underlying().(*types.Struct); ok {
				return domainPkgs[obj.Pkg().Path()] + "." + obj.Name()
			}
		}
		return domainStruct(t.Underlying(), seen)
	case *types.Pointer:
		return domainStruct(t.Elem(), seen)
	case *types.Slice:
		return domainStruct(t.Elem(), seen)
	case *types.Array:
		return domainStruct(t.Elem(), seen)
	case *types.Map:
		if name := domainStruct(t.Key(), seen); name != "" {
			return name
		}
		return domainStruct(t.Elem(), seen)
	case *types.Struct:
		for i := 0; i < t.NumFields(); i++ {
			f := t.Field(i)
			// encoding/json skips these: they never reach the wire.
			if (!f.Exported() && !f.Embedded()) || reflect.StructTag(t.Tag(i)).Get("json") == "-" {
				continue
			}
			if name := domainStruct(f.Type(), seen); name != "" {
				return name
			}
		}
	}
	return ""
}
