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
	"github.com/fxbus/fxbus/topics"
)

func TestStoreConcurrentUse(t *testing.T) {
	s := desk.NewStore()
	now := time.Now()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				user := topics.UserID(fmt.Sprintf("v%d-%d", w, i))
				s.TrackVisitor(topics.Visitor{UserID: user}, now)
				th := s.CreateThread(topics.Thread{UserID: user})
				s.AddMessage(topics.Message{ThreadID: th.ID, Body: "hi"})
				_, _, _, _ = s.UpdateThread(th.ID, func(t *topics.Thread) error { t.State = topics.ThreadStateChatting; return nil })
				tk := s.CreateTicket(&topics.UserRequest{TicketInfo: topics.TicketInfo{Title: "t"}})
				_, _, _ = s.UpdateTicket(tk.Ticket().ID, func(t topics.Ticket) error { t.Ticket().Status = topics.TicketStatusClosed; return nil })
				s.Publish(topics.ChannelOperators, "m")
				_, _ = s.ActiveBan(user, netip.Addr{}, now)
				_ = s.Counts()
			}
		})
	}
	wg.Wait()
	n := workers * each
	assert.Equal(t, map[string]int{
		"visitors": n, "threads": n, "messages": n, "operators_online": 0, "bans": 0, "tickets": n, "documents": 0,
	}, s.Counts())
	assert.Len(t, s.ChannelMessages(topics.ChannelOperators), n)
	ids := map[topics.ThreadID]bool{}
	for _, th := range s.Threads() {
		ids[th.ID] = true
		assert.Equal(t, topics.ThreadStateChatting, th.State)
	}
	assert.Len(t, ids, n, "ids are unique")
}

func TestStoreHandsOutCopies(t *testing.T) {
	s := desk.NewStore()
	now := time.Now()
	op := s.SignInOperator(topics.Operator{Login: "olivia", Groups: []topics.GroupID{1}}, now)
	op.Groups[0] = 9
	got, _ := s.Operator(op.ID)
	assert.Equal(t, []topics.GroupID{1}, got.Groups)
	again := s.SignInOperator(topics.Operator{Login: "olivia"}, now)
	assert.Equal(t, op.ID, again.ID, "an operator signing in again keeps their id")

	tk := s.CreateTicket(&topics.Incident{TicketInfo: topics.TicketInfo{Title: "down"}, Impact: 1})
	assert.Equal(t, "I-000001", tk.Ticket().Ref)
	tk.(*topics.Incident).Impact = 5
	stored, _ := s.Ticket(tk.Ticket().ID)
	assert.Equal(t, topics.Priority(1), stored.(*topics.Incident).Impact)

	m := s.AddMessage(topics.Message{ThreadID: 1, Data: map[string]any{"k": "v"}})
	m.Data["k"] = "changed"
	assert.Equal(t, "v", s.Messages(1)[0].Data["k"])

	d := s.AddDocument(topics.Document{File: topics.File{Data: []byte("abc")}})
	d.File.Data[0] = 'x'
	stored2, _ := s.Document(d.ID)
	assert.Equal(t, "abc", string(stored2.File.Data))

	_, _, _, err := s.UpdateThread(42, func(*topics.Thread) error { return nil })
	assert.NoError(t, err)
	_, ok, _ := s.UpdateTicket(42, func(topics.Ticket) error { return nil })
	assert.False(t, ok)
}

func TestStoreBans(t *testing.T) {
	s := desk.NewStore()
	now := time.Now()
	addr := netip.MustParseAddr("203.0.113.20")
	b := s.AddBan(topics.Ban{Address: addr, Created: now, Until: now.Add(time.Hour)}, "bob")
	assert.NotZero(t, b.ID)
	_, ok := s.ActiveBan("bob", netip.Addr{}, now)
	assert.True(t, ok, "by visitor")
	_, ok = s.ActiveBan("bob2", addr, now)
	assert.True(t, ok, "by address")
	_, ok = s.ActiveBan("alice", netip.MustParseAddr("203.0.113.10"), now)
	assert.False(t, ok)
	_, ok = s.ActiveBan("bob", addr, now.Add(time.Hour))
	assert.False(t, ok, "expired")
	require.Len(t, s.Bans(), 1)
	assert.Equal(t, topics.UserID("bob"), s.Bans()[0].UserID)
}

func TestWithConfig(t *testing.T) {
	var cfg desk.Config
	fxtest.New(t, desk.Module, fx.NopLogger, fx.Populate(&cfg),
		desk.WithConfig(desk.Config{Addr: "127.0.0.1:8089", BanDuration: time.Hour, LogOutput: testWriter{t}}))
	assert.Equal(t, "127.0.0.1:8089", cfg.Addr)
	assert.Equal(t, time.Hour, cfg.BanDuration)
	assert.Equal(t, desk.DemoSSOSecret, cfg.SSOSecret, "a default for what the config leaves out")

	fxtest.New(t, desk.Module, fx.NopLogger, fx.Populate(&cfg))
	assert.Equal(t, desk.DefaultAddr, cfg.Addr)
	assert.Equal(t, 24*time.Hour, cfg.BanDuration)
}

func TestServerFailsToStartOnABusyAddress(t *testing.T) {
	_, first, _ := startDesk(t)
	addr := first.URL()[len("http://"):]
	app := fxtest.New(t, desk.Module, fx.NopLogger, desk.WithConfig(desk.Config{Addr: addr, LogOutput: testWriter{t}}))
	err := app.Start(t.Context())
	assert.ErrorContains(t, err, "desk: listen")
}
