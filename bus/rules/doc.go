// Package rules filters listeners through sets of include or exclude rules
// that are added, replaced and removed by id while the bus runs: the
// plugin event subscriptions with filter rules of fxbus's seeds, with typed
// predicates in place of JSON parameter matching.
//
//	rs, err := rules.New("crm", rules.Include,
//		rules.Match("vip", Posted, rules.AllOf(isVIP, inLobby), isOperator),
//		rules.Match("bans", BanAdded),
//	)
//	sub, err := Posted.Subscribe(b, deliver, rules.When(rs, Posted))
//	err = rs.Remove("bans") // from the next publish
//
// A [Set] is shared by listeners of any topics; each listener obeys it
// through [When], a [bus.Topic.When] filter: typed, checked before the
// handler's span starts, and allocation-free.
package rules
