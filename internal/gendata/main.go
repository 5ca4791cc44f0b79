// Command gendata rebuilds the reference data that package
// registry/refdata embeds, from the verbatim third-party copies in
// shared/data, repairing their known defects on the way:
//
//	go run ./internal/gendata -shared ../shared/data -out registry/refdata
//
// It prints what it found and fixed, and exits non-zero when the input has
// a defect it does not know, or the result misses the official totals
// (8 / 79 / 450 categories; 31 / 342 / 2,974 regions).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/skillreg/skillreg/internal/gendata/refgen"
)

func main() {
	shared := flag.String("shared", "../shared/data", "directory holding "+refgen.OccupationsInput+" and "+refgen.RegionsInput)
	out := flag.String("out", "registry/refdata", "directory to write "+refgen.OccupationsOutput+" and "+refgen.RegionsOutput+" into")
	quiet := flag.Bool("q", false, "print nothing on success")
	flag.Parse()

	files, rep, err := refgen.Generate(*shared)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	if err := refgen.WriteFiles(*out, files); err != nil {
		fmt.Fprintln(os.Stderr, "gendata:", err)
		os.Exit(1)
	}
	if !*quiet {
		fmt.Fprint(os.Stderr, rep)
		for _, name := range []string{refgen.OccupationsOutput, refgen.RegionsOutput} {
			fmt.Fprintf(os.Stderr, "wrote %s/%s (%d bytes)\n", *out, name, len(files[name]))
		}
	}
}
