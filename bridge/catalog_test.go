package bridge_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bridge"
	"github.com/fxbus/fxbus/bus"
)

var (
	orderIn  = bus.NewTopic[Order]("test.catalog.in")
	orderOut = bus.NewTopic[Order]("test.catalog.out")
)

func topicInfo(t *testing.T, c bus.Catalog, name string) bus.TopicInfo {
	t.Helper()
	for _, ti := range c.Topics {
		if ti.Name == name {
			return ti
		}
	}
	t.Fatalf("no topic %q in the catalogue", name)
	return bus.TopicInfo{}
}

func TestCatalogueAndWiringKnowTheBridge(t *testing.T) {
	for _, imported := range []bool{true, false} {
		logs := &syncBuffer{}
		opts := []fx.Option{
			fx.NopLogger,
			fx.Supply(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))), // the wiring report is at Debug
			bus.Module, bridge.Module,
			bus.Listen(orderIn, func(context.Context, *Order) error { return nil }, bus.Name("shop.Ship")),
			bridge.Export(orderOut),
			bus.Publishes(orderOut),
			fx.Invoke(func(b *bus.Bus) {
				c := b.Catalog()
				out := topicInfo(t, c, "test.catalog.out")
				require.Len(t, out.Listeners, 1)
				assert.Equal(t, "bridge.Export", out.Listeners[0].Name)
				assert.Equal(t, "nats:fxbus.topic.test.catalog.out", out.Listeners[0].Remote)
				assert.Contains(t, out.Listeners[0].Source.File, "catalog_test.go", "the export is attributed to its caller")
				if imported {
					in := topicInfo(t, c, "test.catalog.in")
					require.Len(t, in.Publishers, 1)
					assert.Equal(t, "nats:fxbus.topic.test.catalog.in (group shop)", in.Publishers[0].Remote)
				}
			}),
		}
		if imported {
			opts = append(opts, bridge.Import(orderIn, bridge.Group("shop")))
		}
		require.NoError(t, fx.New(opts...).Err())
		if imported {
			assert.NotContains(t, logs.String(), "nobody declared publishing it", "an imported topic has a publisher elsewhere")
		} else {
			assert.Contains(t, logs.String(), `topic \"test.catalog.in\"`)
			assert.Contains(t, logs.String(), "nobody declared publishing it")
		}
	}
}
