// Package bustest helps test code that publishes on a [bus.Bus]: it records
// what was published on chosen topics, and asserts on it, in the spirit of
// Laravel's Event::fake and tailscale's eventbustest.
//
// Publishing is synchronous, so by the time Publish returns, the recorder
// has its event: there is nothing to wait for.
//
// # On a bus you built
//
// [Record] subscribes a [Recorder] to a topic for the rest of the test:
//
//	b, _ := bus.New(listeners)
//	rec := bustest.Record(t, b, topics.BanCreated)
//
//	svc.BanAddress(ctx, addr) // publishes topics.BanCreated
//
//	bustest.AssertCount(t, rec, 1)
//	bustest.AssertPublished(t, rec, func(e *topics.BanEvent) bool { return e.Ban.Address == addr })
//
// # In an fx app
//
// [Capture] adds a recorder to the app's bus, next to the modules under
// test:
//
//	var rec *bustest.Recorder[topics.MessagePosting]
//	app := fxtest.New(t, moderation.Module, bus.Module,
//		bustest.Capture(&rec, topics.ThreadMessagePosting))
//	app.RequireStart()
//	defer app.RequireStop()
//
// # What a recorder sees
//
// A recorder is a listener like any other. By default it runs last (at
// bus.Rank(math.MaxInt)), so it records the payload as the other listeners
// left it: the final body of a message, the results of a function call. Give
// it bus.Rank(math.MinInt) to record payloads as they were published
// instead. A publish that ends before the recorder's turn, because a
// listener returned [bus.ErrStop] or failed under [bus.StopOnError], is not
// recorded at the last rank; it is at the first. Other listener options work
// too, such as [bus.Topic.When] to record only some events.
//
// A recorder keeps a shallow copy of each payload, taken when it runs: a
// listener or publisher that later changes a field of the payload does not
// change the record, but one that changes what a pointer, slice or map of
// the payload refers to does.
//
// A recorder is a listener, so it counts towards a topic's
// [bus.Requirement]: it cannot record a topic that needs
// [bus.ExactlyOne] and has its listener already.
//
// # Everything published, across topics
//
// [RecordAll] (or [CaptureAll] under fx) records every publish on a bus,
// whatever the topic, in a [Log], in the order of the publishes: a
// nested publish after the publish that made it. It records at the first
// rank, so it keeps payloads as published, and also the publishes that a
// listener stopped or failed. [Expect] and [ExpectExactly] assert the
// order, as tailscale's eventbustest.Expect does; [AssertNothingPublished],
// [AssertOnlyPublished] and [AssertCounts] what Laravel's fake asserts:
//
//	log := bustest.RecordAll(t, b)
//	svc.PostMessage(ctx, thread, post)
//	bustest.ExpectExactly(t, log,
//		bustest.Published(topics.ThreadMessagePosting),
//		bustest.Published(topics.ChatMessageReceived, func(m *topics.ChatMessage) bool { return m.Thread == thread }))
//
// # Assertions
//
// [AssertPublished], [AssertNotPublished] and [AssertCount] (and the
// assertions on a [Log]) report failures
// with t.Errorf, naming the topic and listing what was recorded, and return
// whether they held, like testify's assert functions; wrap them in
// require.True to stop the test.
package bustest
