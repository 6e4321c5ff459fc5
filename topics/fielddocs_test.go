package topics_test

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdoc"
	"github.com/fxbus/fxbus/internal/fielddocs"
	"github.com/fxbus/fxbus/topics"
)

// TestFieldDocsAreCurrent fails when a payload's field comments changed and
// zz_fielddocs.go was not regenerated: run go generate ./topics.
func TestFieldDocsAreCurrent(t *testing.T) {
	want, err := fielddocs.Generate(".", "FieldDocs", "zz_fielddocs.go")
	require.NoError(t, err)
	got, err := os.ReadFile("zz_fielddocs.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "zz_fielddocs.go is stale: run go generate ./topics")
}

// TestFieldDocsCoverEveryPayload proves that a catalogue of the topics has
// a doc for every field of every payload declared in this package.
func TestFieldDocsCoverEveryPayload(t *testing.T) {
	b, err := bus.New(nil, bus.WithTopics(topics.All()...))
	require.NoError(t, err)
	c := busdoc.AddFieldDocs(b.Catalog(), topics.FieldDocs)
	require.NotEmpty(t, c.Topics)
	for _, ti := range c.Topics {
		if _, ours := topics.FieldDocs[ti.Payload]; !ours {
			continue // a payload of another package, such as bus.Result
		}
		for _, f := range ti.Fields {
			assert.NotEmpty(t, f.Doc, "%s: field %s.%s has no doc", ti.Name, ti.Payload, f.Name)
		}
	}
}
