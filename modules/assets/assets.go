package assets

import (
	"context"
	"slices"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// The desk's own assets, relative to the desk's root.
const (
	// CSS is the desk's base style sheet.
	CSS = "/static/desk.css"
	// JS is the desk's base script.
	JS = "/static/desk.js"
)

// Rank is the rank of the module's listeners: the middle, so that listeners
// that must come before the desk's base assets, or after them, say so with
// a lower or a higher rank.
const Rank = 0

// Module adds [CSS] to [topics.PageAddCSS] and [JS] to [topics.PageAddJS],
// at [Rank].
var Module = fx.Module("assets",
	bus.Listen(topics.PageAddCSS, AddCSS, bus.Rank(Rank)),
	bus.Listen(topics.PageAddJS, AddJS, bus.Rank(Rank)),
)

// AddCSS appends [CSS] to the page's assets, unless an earlier listener
// already did.
func AddCSS(_ context.Context, p *topics.PageAssets) error {
	add(p, CSS)
	return nil
}

// AddJS appends [JS] to the page's assets, unless an earlier listener
// already did.
func AddJS(_ context.Context, p *topics.PageAssets) error {
	add(p, JS)
	return nil
}

func add(p *topics.PageAssets, url string) {
	if slices.ContainsFunc(p.Assets, func(a topics.Asset) bool {
		return a.Kind == topics.AssetKindRelativeURL && a.Content == url
	}) {
		return
	}
	p.Assets = append(p.Assets, topics.Asset{Kind: topics.AssetKindRelativeURL, Content: url, Weight: Rank})
}
