package moderation_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
	"github.com/fxbus/fxbus/modules/moderation"
	"github.com/fxbus/fxbus/topics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFilterCensorsWholeWordsAnyCase(t *testing.T) {
	f, err := moderation.NewFilter(moderation.Params{})
	require.NoError(t, err)
	for _, tc := range []struct {
		in, want string
		n        int
	}{
		{"well, darn", "well, ****", 1},
		{"Darn! HECK? heck.", "****! ****? ****.", 3},
		{"darn darn", "**** ****", 2},
		{"darned heckle darn_it undarn", "darned heckle darn_it undarn", 0}, // whole words only
		{"(heck)", "(****)", 1},
		{"héck darn—darn", "héck ****—****", 2}, // Unicode letters belong to words, dashes do not
		{"", "", 0},
		{"all good", "all good", 0},
	} {
		got, n := f.Censor(tc.in)
		assert.Equal(t, tc.want, got, "Censor(%q)", tc.in)
		assert.Equal(t, tc.n, n, "Censor(%q)", tc.in)
	}
}

func TestFilterWordsFromConfig(t *testing.T) {
	f, err := moderation.NewFilter(moderation.Params{Config: moderation.Config{Words: []string{"Blast", "мерзость"}}})
	require.NoError(t, err)
	got, n := f.Censor("darn, blast! Мерзость")
	assert.Equal(t, "darn, *****! ********", got, "one asterisk per letter, not per byte")
	assert.Equal(t, 2, n)

	for _, w := range []string{"", "two words", "f@#k"} {
		_, err := moderation.NewFilter(moderation.Params{Config: moderation.Config{Words: []string{w}}})
		assert.ErrorContains(t, err, "Config.Words", "word %q", w)
	}
}

type harness struct {
	b      *bus.Bus
	before *bustest.Recorder[topics.MessagePosting] // at the first rank
	after  *bustest.Recorder[topics.MessagePosting] // at the last rank
	bans   *bustest.Recorder[topics.BanRequest]
	s      *moderation.Strikes
}

func start(t *testing.T, opts ...fx.Option) *harness {
	t.Helper()
	h := &harness{}
	app := fxtest.New(t, append([]fx.Option{fx.NopLogger, bus.Module, moderation.Module,
		bustest.Capture(&h.before, topics.ThreadMessagePosting, bus.Rank(math.MinInt)),
		bustest.Capture(&h.after, topics.ThreadMessagePosting),
		bustest.Capture(&h.bans, topics.ModerationBanRequested),
		fx.Populate(&h.b, &h.s),
	}, opts...)...)
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return h
}

func (h *harness) post(t *testing.T, user topics.UserID, kind topics.MessageKind, body string) (*topics.MessagePosting, error) {
	t.Helper()
	m := &topics.MessagePosting{
		Thread: &topics.Thread{ID: 1, UserID: user, Remote: "192.0.2.9"},
		Kind:   kind,
		Body:   body,
	}
	return m, topics.ThreadMessagePosting.Publish(context.Background(), h.b, m)
}

// The body is rewritten at rank -10: a listener before it sees the body as
// written, a listener at the default rank sees it as it will be stored.
func TestModuleRewritesBeforeTheDefaultRank(t *testing.T) {
	var atZero string
	h := start(t, bus.Listen(topics.ThreadMessagePosting, func(_ context.Context, m *topics.MessagePosting) error {
		atZero = m.Body
		return nil
	}))
	m, err := h.post(t, "u1", topics.MessageKindUser, "oh heck")
	require.NoError(t, err)
	assert.Equal(t, "oh ****", m.Body)
	assert.Equal(t, "oh ****", atZero)
	bustest.AssertPublished(t, h.before, func(m *topics.MessagePosting) bool { return m.Body == "oh heck" })
	bustest.AssertPublished(t, h.after, func(m *topics.MessagePosting) bool { return m.Body == "oh ****" })
}

// The second abusive visitor message bans the visitor; clean messages,
// operators' messages and other visitors do not count.
func TestModuleBansAtTheSecondStrike(t *testing.T) {
	h := start(t)
	steps := []struct {
		user topics.UserID
		kind topics.MessageKind
		body string
		bans int
	}{
		{"u1", topics.MessageKindUser, "darn", 0},
		{"u1", topics.MessageKindUser, "hello", 0},       // clean
		{"u1", topics.MessageKindAgent, "heck", 0},       // an operator's message, censored but no strike
		{"u2", topics.MessageKindUser, "heck", 0},        // another visitor
		{"u1", topics.MessageKindUser, "heck, darn", 1},  // second strike of u1
		{"u1", topics.MessageKindUser, "darn", 1},        // the count starts again
		{"u2", topics.MessageKindUser, "darn it all", 2}, // second strike of u2
	}
	for i, s := range steps {
		_, err := h.post(t, s.user, s.kind, s.body)
		require.NoError(t, err, "step %d", i)
		require.True(t, bustest.AssertCount(t, h.bans, s.bans, "after step %d", i))
	}
	bans := h.bans.Events()
	assert.Equal(t, topics.BanRequest{UserID: "u1", Address: "192.0.2.9", Reason: "2 abusive messages", By: "moderation"}, bans[0])
	assert.Equal(t, topics.UserID("u2"), bans[1].UserID)
	assert.Equal(t, 1, h.s.Of("u1"))
	assert.Equal(t, 0, h.s.Of("u2"))
}

func TestModuleBanAfterFromConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		banAfter int
		posts    int
		bans     int
	}{
		{"third not yet", 3, 2, 0},
		{"third", 3, 3, 1},
		{"first", 1, 3, 3},
		{"never", -1, 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, fx.Supply(moderation.Config{BanAfter: tc.banAfter}))
			for range tc.posts {
				_, err := h.post(t, "u1", topics.MessageKindUser, "heck")
				require.NoError(t, err)
			}
			bustest.AssertCount(t, h.bans, tc.bans)
		})
	}
}

// A ban request that fails refuses the message, and the strikes are kept,
// so that the next abusive message asks again.
func TestModuleBanFailureRefusesTheMessageAndKeepsStrikes(t *testing.T) {
	refuse := true
	h := start(t, bus.Listen(topics.ModerationBanRequested, func(context.Context, *topics.BanRequest) error {
		if refuse {
			return errors.New("ban store down")
		}
		return nil
	}))
	_, err := h.post(t, "u1", topics.MessageKindUser, "darn")
	require.NoError(t, err)
	_, err = h.post(t, "u1", topics.MessageKindUser, "darn")
	require.ErrorContains(t, err, "ban store down")
	assert.ErrorContains(t, err, `moderation: ban visitor "u1"`)
	assert.Equal(t, 2, h.s.Of("u1"))

	refuse = false
	_, err = h.post(t, "u1", topics.MessageKindUser, "darn")
	require.NoError(t, err)
	bans := h.bans.Events()
	require.Len(t, bans, 1, "the recorder, last, records only the request that went through")
	assert.Equal(t, "3 abusive messages", bans[0].Reason)
	assert.Equal(t, 0, h.s.Of("u1"))
}

func TestModuleRejectsBadConfig(t *testing.T) {
	err := fx.New(fx.NopLogger, bus.Module, moderation.Module,
		fx.Supply(moderation.Config{Words: []string{"no good"}})).Err()
	assert.ErrorContains(t, err, `"no good" is not a word`)
}

// Messages without a thread or visitor are censored all the same.
func TestModuleWithoutVisitor(t *testing.T) {
	h := start(t)
	m := &topics.MessagePosting{Kind: topics.MessageKindUser, Body: "heck"}
	require.NoError(t, topics.ThreadMessagePosting.Publish(context.Background(), h.b, m))
	assert.Equal(t, "****", m.Body)
	bustest.AssertCount(t, h.bans, 0)
}
