// Command fielddocs writes the field documentation of the package in the
// current directory to a generated Go file, for catalogues. Call it from
// the package, with a generate directive:
//
//	//go:generate go run ../internal/cmd/fielddocs -o zz_fielddocs.go
package main
