package assets_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
	"github.com/fxbus/fxbus/modules/assets"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func urls(as []topics.Asset) []string {
	var s []string
	for _, a := range as {
		s = append(s, a.Content)
	}
	return s
}

// The module appends its own asset to each list, after what earlier
// listeners put there, and only once.
func TestModuleAddsTheDeskAssets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		topic *bus.Topic[topics.PageAssets]
		want  string
	}{
		{"css", topics.PageAddCSS, assets.CSS},
		{"js", topics.PageAddJS, assets.JS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b *bus.Bus
			var rec *bustest.Recorder[topics.PageAssets]
			app := fxtest.New(t, fx.NopLogger, bus.Module, assets.Module,
				bustest.Capture(&rec, tc.topic),
				// Something before the desk's asset, and a listener at the
				// same rank declared later: it runs after the module's.
				bus.Listen(tc.topic, func(_ context.Context, p *topics.PageAssets) error {
					p.Assets = append(p.Assets, topics.Asset{Content: "/first"})
					return nil
				}, bus.Rank(assets.Rank-1)),
				bus.Listen(tc.topic, func(_ context.Context, p *topics.PageAssets) error {
					p.Assets = append(p.Assets, topics.Asset{Content: "/later"})
					return nil
				}, bus.Rank(assets.Rank)),
				fx.Populate(&b))
			app.RequireStart()
			defer app.RequireStop()

			p := &topics.PageAssets{}
			require.NoError(t, tc.topic.Publish(context.Background(), b, p))
			assert.Equal(t, []string{"/first", tc.want, "/later"}, urls(p.Assets))
			assert.Equal(t, topics.AssetKindRelativeURL, p.Assets[1].Kind)

			// Already there: not added twice.
			p = &topics.PageAssets{Assets: []topics.Asset{{Content: tc.want}}}
			require.NoError(t, tc.topic.Publish(context.Background(), b, p))
			assert.Equal(t, []string{tc.want, "/first", "/later"}, urls(p.Assets))
			bustest.AssertCount(t, rec, 2)
		})
	}
}

// The module leaves the other list alone.
func TestModuleAddsCSSOnlyToCSSAndJSOnlyToJS(t *testing.T) {
	p := &topics.PageAssets{}
	require.NoError(t, assets.AddCSS(context.Background(), p))
	require.NoError(t, assets.AddJS(context.Background(), p))
	assert.Equal(t, []string{assets.CSS, assets.JS}, urls(p.Assets))
}
