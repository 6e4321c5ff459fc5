// Package modules holds the reference service's fx modules, one package
// each: audit, moderation, sso, assets, functions, tickets, stats, webhooks
// and widget. They never import each other: they talk through the typed
// topics of package topics. This package holds their list, [All], and the
// test that wires them all together.
package modules
