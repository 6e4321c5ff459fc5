package main

import (
	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"

	"github.com/fxbus/fxbus/modules"
	"github.com/fxbus/fxbus/modules/sso"
)

// wiring is the desk's features, from modules/, and the bus they are
// listeners of: the one place where the app wires them, in every mode.
// The server comes after them, at the top level (httpapi.Serve).
var wiring = fx.Options(
	bus.Module, telemetry.Module, httpapi.Module, modules.All,
	fx.Provide(func(c desk.Config) sso.Config { return sso.Config{Secret: c.SSOSecret} }),
)
