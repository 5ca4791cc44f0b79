package refdata

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/skillreg/skillreg/internal/gendata/refgen"
)

// sharedData is where the raw inputs live relative to this directory: in
// the workspace and in CI, shared/ sits beside the repository clone.
const sharedData = "../../../shared/data"

// TestGeneratedFilesUpToDate regenerates the data files and fails if the
// committed ones differ, so that the generator, its fixes and the shipped
// data never drift apart.
func TestGeneratedFilesUpToDate(t *testing.T) {
	for _, in := range []string{refgen.OccupationsInput, refgen.RegionsInput} {
		if _, err := os.Stat(filepath.Join(sharedData, in)); err != nil {
			t.Skipf("raw data not available (%v); cannot check that the generated files are up to date", err)
		}
	}
	files, _, err := refgen.Generate(sharedData)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := refgen.WriteFiles(dir, files); err != nil {
		t.Fatal(err)
	}
	embedded := map[string][]byte{refgen.OccupationsOutput: occupationsJSON, refgen.RegionsOutput: regionsJSON}
	for name, emb := range embedded {
		fresh, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(fresh, committed) || !bytes.Equal(fresh, emb) {
			t.Errorf("%s is stale (%d bytes committed, %d regenerated): run `go generate ./registry/refdata` and commit the result", name, len(committed), len(fresh))
		}
	}
	if len(files) != len(embedded) {
		t.Errorf("generator wrote %d files, the package embeds %d", len(files), len(embedded))
	}
}
