package desk_test

import (
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestStoreConcurrentUse(t *testing.T) {
	s := desk.NewStore(desk.Config{})
	now := time.Now()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				user := topics.UserID(fmt.Sprintf("v%d-%d", w, i))
				_, _, _ = s.TrackVisitor(topics.Visitor{UserID: user}, now)
				th := must(s.CreateThread(topics.Thread{UserID: user}))
				_, _ = s.AddMessage(topics.Message{ThreadID: th.ID, Body: "hi"})
				_, _, _, _ = s.UpdateThread(th.ID, func(t *topics.Thread) error { t.State = topics.ThreadStateChatting; return nil })
				tk := must(s.CreateTicket(&topics.UserRequest{TicketInfo: topics.TicketInfo{Title: "t"}}))
				_, _, _ = s.UpdateTicket(tk.Ticket().ID, func(t topics.Ticket) error { t.Ticket().Status = topics.TicketStatusClosed; return nil })
				_, _ = s.Publish(topics.ChannelOperators, "m")
				_, _ = s.ActiveBan(user, netip.Addr{}, now)
				_ = s.Counts()
				_, _ = s.Threads(0, 10)
			}
		})
	}
	wg.Wait()
	n := workers * each
	assert.Equal(t, map[string]int{
		"bytes": 3 * n, "visitors": n, "threads": n, "messages": n, "operators_online": 0, "bans": 0, "tickets": n, "documents": 0,
	}, s.Counts())
	assert.Len(t, s.ChannelMessages(topics.ChannelOperators), n)
	ids := map[topics.ThreadID]bool{}
	threads, next := s.Threads(0, n)
	assert.Zero(t, next)
	for _, th := range threads {
		ids[th.ID] = true
		assert.Equal(t, topics.ThreadStateChatting, th.State)
	}
	assert.Len(t, ids, n, "ids are unique")
}

func TestStoreHandsOutCopies(t *testing.T) {
	s := desk.NewStore(desk.Config{})
	now := time.Now()
	op := must(s.SignInOperator(topics.Operator{Login: "olivia", Groups: []topics.GroupID{1}}, now))
	op.Groups[0] = 9
	got, _ := s.Operator(op.ID)
	assert.Equal(t, []topics.GroupID{1}, got.Groups)
	again := must(s.SignInOperator(topics.Operator{Login: "olivia"}, now))
	assert.Equal(t, op.ID, again.ID, "an operator signing in again keeps their id")

	tk := must(s.CreateTicket(&topics.Incident{TicketInfo: topics.TicketInfo{Title: "down"}, Impact: 1}))
	assert.Equal(t, "I-000001", tk.Ticket().Ref)
	tk.(*topics.Incident).Impact = 5
	stored, _ := s.Ticket(tk.Ticket().ID)
	assert.Equal(t, topics.Priority(1), stored.(*topics.Incident).Impact)

	m := must(s.AddMessage(topics.Message{ThreadID: 1, Data: map[string]any{"k": "v"}}))
	m.Data["k"] = "changed"
	ms, _ := s.Messages(1, 0, 10)
	assert.Equal(t, "v", ms[0].Data["k"])

	d := must(s.AddDocument(topics.Document{File: topics.File{Data: []byte("abc")}}))
	d.File.Data[0] = 'x'
	stored2, _ := s.Document(d.ID)
	assert.Equal(t, "abc", string(stored2.File.Data))

	_, _, _, err := s.UpdateThread(42, func(*topics.Thread) error { return nil })
	assert.NoError(t, err)
	_, ok, _ := s.UpdateTicket(42, func(topics.Ticket) error { return nil })
	assert.False(t, ok)
}

func TestStoreBans(t *testing.T) {
	s := desk.NewStore(desk.Config{})
	now := time.Now()
	addr := netip.MustParseAddr("203.0.113.20")
	b := must(s.AddBan(topics.Ban{Address: addr, Created: now, Until: now.Add(time.Hour)}, "bob"))
	assert.NotZero(t, b.ID)
	_, ok := s.ActiveBan("bob", netip.Addr{}, now)
	assert.True(t, ok, "by visitor")
	_, ok = s.ActiveBan("bob2", addr, now)
	assert.True(t, ok, "by address")
	_, ok = s.ActiveBan("alice", netip.MustParseAddr("203.0.113.10"), now)
	assert.False(t, ok)
	_, ok = s.ActiveBan("bob", addr, now.Add(time.Hour))
	assert.False(t, ok, "expired")
	bans, _ := s.Bans(0, 10)
	require.Len(t, bans, 1)
	assert.Equal(t, topics.UserID("bob"), bans[0].UserID)
}

// The store refuses what would take it beyond its limits, with ErrFull,
// and keeps what it holds.
func TestStoreLimits(t *testing.T) {
	s := desk.NewStore(desk.Config{Limits: desk.Limits{MaxRecords: 2, MaxStoreBytes: 10, MaxMessagesPerThread: 3}})
	now := time.Now()
	for _, id := range []topics.UserID{"a", "b"} {
		_, _, err := s.TrackVisitor(topics.Visitor{UserID: id}, now)
		require.NoError(t, err)
	}
	_, _, err := s.TrackVisitor(topics.Visitor{UserID: "c"}, now)
	assert.ErrorIs(t, err, desk.ErrFull)
	assert.ErrorContains(t, err, "it holds 2 visitors, its limit")
	_, created, err := s.TrackVisitor(topics.Visitor{UserID: "a"}, now)
	assert.NoError(t, err, "a known visitor is fine")
	assert.False(t, created)

	_, err = s.AddMessage(topics.Message{ThreadID: 1, Body: "0123456789"})
	require.NoError(t, err)
	_, err = s.AddMessage(topics.Message{ThreadID: 1, Body: "x"})
	assert.ErrorIs(t, err, desk.ErrFull, "beyond MaxStoreBytes")
	_, err = s.AddDocument(topics.Document{File: topics.File{Data: []byte("x")}})
	assert.ErrorIs(t, err, desk.ErrFull)
	_, err = s.Publish(topics.ChannelOperators, "x")
	assert.ErrorIs(t, err, desk.ErrFull)

	s = desk.NewStore(desk.Config{Limits: desk.Limits{MaxMessagesPerThread: 3}})
	for range 3 {
		_, err = s.AddMessage(topics.Message{ThreadID: 1})
		require.NoError(t, err)
	}
	_, err = s.AddMessage(topics.Message{ThreadID: 1})
	assert.ErrorContains(t, err, "thread 1 has 3 messages, its limit")
	_, err = s.AddMessage(topics.Message{ThreadID: 2})
	assert.NoError(t, err, "the limit is per thread")
}

// A listing's pages cover every record once, in order, and the last page
// says there is no next one.
func TestStorePages(t *testing.T) {
	s := desk.NewStore(desk.Config{})
	for range 7 {
		_, err := s.AddMessage(topics.Message{ThreadID: 1})
		require.NoError(t, err)
		_, err = s.AddMessage(topics.Message{ThreadID: 2}) // interleaved ids
		require.NoError(t, err)
	}
	var got []topics.MessageID
	after, pages := topics.MessageID(0), 0
	for {
		ms, next := s.Messages(1, after, 3)
		pages++
		for _, m := range ms {
			got = append(got, m.ID)
		}
		if next == 0 {
			break
		}
		after = next
	}
	assert.Equal(t, []topics.MessageID{1, 3, 5, 7, 9, 11, 13}, got)
	assert.Equal(t, 3, pages)
	ms, next := s.Messages(1, 13, 3)
	assert.Empty(t, ms)
	assert.Zero(t, next)
	ms, next = s.Messages(1, 4, 2) // a cursor between ids
	assert.Equal(t, []topics.MessageID{5, 7}, []topics.MessageID{ms[0].ID, ms[1].ID})
	assert.Equal(t, topics.MessageID(7), next)
}

func TestWithConfig(t *testing.T) {
	var cfg desk.Config
	fxtest.New(t, bus.Module, telemetry.Module, desk.Module, httpapi.Module, fx.NopLogger, fx.Populate(&cfg),
		desk.WithConfig(desk.Config{Addr: "127.0.0.1:8089", BanDuration: time.Hour, LogOutput: testWriter{t}}))
	assert.Equal(t, "127.0.0.1:8089", cfg.Addr)
	assert.Equal(t, time.Hour, cfg.BanDuration)
	assert.Empty(t, cfg.SSOSecret, "no default secret")
	assert.Equal(t, desk.DefaultTimeouts, cfg.Timeouts, "defaults for what the config leaves out")
	assert.Equal(t, desk.DefaultLimits, cfg.Limits)

	fxtest.New(t, bus.Module, telemetry.Module, desk.Module, httpapi.Module, fx.NopLogger, fx.Populate(&cfg))
	assert.Equal(t, desk.DefaultAddr, cfg.Addr)
	assert.Equal(t, 24*time.Hour, cfg.BanDuration)
}

func TestServerFailsToStartOnABusyAddress(t *testing.T) {
	_, first, _ := startDesk(t)
	addr := first.URL()[len("http://"):]
	app := fxtest.New(t, bus.Module, telemetry.Module, desk.Module, httpapi.Module, fx.NopLogger, desk.WithConfig(desk.Config{Addr: addr, LogOutput: testWriter{t}}), httpapi.Serve)
	err := app.Start(t.Context())
	assert.ErrorContains(t, err, "desk: listen")
}
