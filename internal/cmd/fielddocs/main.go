// Command fielddocs writes the field documentation of the package in the
// current directory to a generated Go file, for catalogues. Call it from
// the package, with a generate directive:
//
//	//go:generate go run ../internal/cmd/fielddocs -o zz_fielddocs.go
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/fxbus/fxbus/internal/fielddocs"
)

func main() {
	out := flag.String("o", "zz_fielddocs.go", "the file to write")
	name := flag.String("var", "FieldDocs", "the name of the generated variable")
	flag.Parse()
	src, err := fielddocs.Generate(".", *name, *out)
	if err == nil {
		err = fielddocs.WriteIfChanged(*out, src)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
