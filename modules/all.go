package modules

import (
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/modules/assets"
	"github.com/fxbus/fxbus/modules/audit"
	"github.com/fxbus/fxbus/modules/functions"
	"github.com/fxbus/fxbus/modules/moderation"
	"github.com/fxbus/fxbus/modules/sso"
	"github.com/fxbus/fxbus/modules/stats"
	"github.com/fxbus/fxbus/modules/tickets"
	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/modules/widget"
)

// All is every module of the desk, in the order the app lists them: the
// one list the app and the tests that wire the whole desk share. The
// order is only for reading: dispatch order comes from ranks, never from
// the order of modules.
var All = fx.Options(
	audit.Module, moderation.Module, sso.Module, assets.Module, functions.Module,
	tickets.Module, stats.Module, webhooks.Module, widget.Module,
)
