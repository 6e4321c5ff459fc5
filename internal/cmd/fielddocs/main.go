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
