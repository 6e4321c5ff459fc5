// Package fielddocs generates, from a package's source, the documentation
// of its exported struct types' exported fields, as a Go file declaring
//
//	var FieldDocs = map[string]map[string]string{"pkg.Type": {"Field": "doc"}}
//
// which a binary embeds and hands to
// [github.com/fxbus/fxbus/bus/busdoc.AddFieldDocs]:
// reflection cannot read comments. It uses only the standard library.
package fielddocs
