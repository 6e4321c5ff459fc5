package main

import (
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"

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

// modules are the desk's features, from modules/, and the bus they are
// listeners of: the one place where the app wires them, in every mode.
// The server comes after them, at the top level (httpapi.Serve).
var modules = fx.Options(
	bus.Module, telemetry.Module, httpapi.Module,
	audit.Module, moderation.Module, sso.Module, assets.Module, functions.Module,
	tickets.Module, stats.Module, webhooks.Module, widget.Module,
	fx.Provide(func(c desk.Config) sso.Config { return sso.Config{Secret: c.SSOSecret} }),
)
