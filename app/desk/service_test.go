package desk_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/app/desk/httpapi"
	"github.com/fxbus/fxbus/app/telemetry"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/bustest"
	"github.com/fxbus/fxbus/bus/hook"
	"github.com/fxbus/fxbus/topics"
)

// The desk's behaviour as listeners see it: what it publishes, when, and
// how it uses what they leave.

func TestMessageStoredAsListenersLeftIt(t *testing.T) {
	var received *bustest.Recorder[topics.ChatMessage]
	f := newFixture(t,
		bustest.Capture(&received, topics.ChatMessageReceived),
		bus.Listen(topics.ThreadMessagePosting, func(_ context.Context, p *topics.MessagePosting) error {
			if strings.Contains(p.Body, "spam") {
				return errors.New("no spam")
			}
			p.Body += " [checked]"
			return nil
		}),
	)
	received.Reset()
	path := "/threads/" + itoa(f.thread) + "/messages"

	w := f.do("POST", path, f.aliceToken, `{"body":"darn it"}`)
	require.Equal(t, 201, w.Code, w.Body.String())
	var m httpapi.MessageJSON
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m))
	assert.Equal(t, "**** it [checked]", m.Body, "moderation (rank -10) then the test's listener")
	last, _ := received.Last()
	assert.Equal(t, "**** it [checked]", last.Message.Body)
	assert.Equal(t, topics.ThreadID(f.thread), last.Thread)

	w = f.do("POST", path, f.aliceToken, `{"body":"buy spam"}`)
	assert.Equal(t, 422, w.Code)
	assert.Contains(t, w.Body.String(), "no spam")
	bustest.AssertCount(t, received, 1, "a refused message is not received")

	var ms httpapi.ListJSON[httpapi.MessageJSON]
	f.must(t, "GET", path, f.aliceToken, "", &ms)
	var bodies []string
	for _, m := range ms.Items {
		bodies = append(bodies, m.Body)
	}
	assert.Equal(t, []string{desk.Greeting + " [checked]", "**** it [checked]"}, bodies, "the stored messages")
}

func TestAbuserBanned(t *testing.T) {
	var created *bustest.Recorder[topics.BanEvent]
	f := newFixture(t, bustest.Capture(&created, topics.BanCreated))
	var th httpapi.ThreadJSON
	f.must(t, "POST", "/threads", f.bobToken, `{}`, &th)
	path := "/threads/" + itoa(th.ID) + "/messages"

	w := f.do("POST", path, f.bobToken, `{"body":"this darn thing"}`)
	require.Equal(t, 201, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"body":"this **** thing"`)
	bustest.AssertCount(t, created, 0)

	w = f.do("POST", path, f.bobToken, `{"body":"what the heck"}`)
	assert.Equal(t, 403, w.Code, "the message that got bob banned is refused")
	assert.Contains(t, w.Body.String(), `visitor \"bob\" is banned until`)
	require.True(t, bustest.AssertCount(t, created, 1))
	ban, _ := created.Last()
	assert.Equal(t, "203.0.113.20", ban.Ban.Address.String())
	assert.Equal(t, "abusive language (moderation)", ban.Ban.Comment)
	assert.NotZero(t, ban.Ban.ID)

	var bans httpapi.ListJSON[httpapi.BanJSON]
	f.must(t, "GET", "/bans", f.opToken, "", &bans)
	require.Len(t, bans.Items, 1)
	assert.Equal(t, "bob", bans.Items[0].UserID)

	assert.Equal(t, 403, f.do("POST", path, f.bobToken, `{"body":"hello?"}`).Code, "no more messages")
	assert.Equal(t, 403, f.do("POST", "/threads", f.bobToken, `{}`).Code, "no new chat")
	assert.Equal(t, 201, f.do("POST", path, f.opToken, `{"body":"Goodbye, Bob."}`).Code, "the operator may still write")
	assert.Equal(t, 201, f.do("POST", "/threads", f.aliceToken, `{}`).Code, "others are not banned")

	// Bob comes back under another id, from the same address: the ban on
	// the address, which came from the connection, holds.
	var v httpapi.VisitorJSON
	w = f.doFrom(bobAddr, "POST", "/visitors", "", `{"user_id":"bob-again"}`)
	require.Equal(t, 201, w.Code, w.Body.String())
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &v))
	assert.Equal(t, "203.0.113.20", v.IP)
	w = f.doFrom(bobAddr, "POST", "/threads", v.Token, `{}`)
	assert.Equal(t, 403, w.Code, "no new chat under a new id: %s", w.Body)
	assert.Contains(t, w.Body.String(), "is banned until")
}

func TestBanRequestedByOperatorOrRefused(t *testing.T) {
	var requested *bustest.Recorder[topics.BanRequest]
	f := newFixture(t,
		bustest.Capture(&requested, topics.ModerationBanRequested),
		bus.Listen(topics.ModerationBanRequested, func(_ context.Context, r *topics.BanRequest) error {
			if r.UserID == "alice" {
				return errors.New("alice is a regular")
			}
			return nil
		}),
	)
	w := f.do("POST", "/bans", f.opToken, `{"user_id":"bob","reason":"spam"}`)
	require.Equal(t, 201, w.Code, w.Body.String())
	assert.Contains(t, w.Body.String(), `"comment":"spam (operator:olivia)"`)
	assert.Contains(t, w.Body.String(), `"address":"203.0.113.20"`, "the visitor's last address")
	last, _ := requested.Last()
	assert.Equal(t, "operator:olivia", last.By)
	require.NotNil(t, last.Ban, "the desk's listener fills in the ban")

	w = f.do("POST", "/bans", f.opToken, `{"user_id":"alice"}`)
	assert.Equal(t, 422, w.Code)
	assert.Contains(t, w.Body.String(), "alice is a regular")
	var bans httpapi.ListJSON[httpapi.BanJSON]
	f.must(t, "GET", "/bans", f.opToken, "", &bans)
	assert.Len(t, bans.Items, 1, "a refused ban is not stored")
}

func TestOperatorSignsInAndJoins(t *testing.T) {
	var (
		loggedIn  *bustest.Recorder[topics.OperatorLogin]
		ready     *bustest.Recorder[topics.ThreadEvent]
		connected *bustest.Recorder[topics.ChatParticipants]
		updated   *bustest.Recorder[topics.ThreadUpdate]
	)
	f := newFixture(t,
		bustest.Capture(&loggedIn, topics.OperatorLoggedIn),
		bustest.Capture(&ready, topics.ThreadUserReady),
		bustest.Capture(&connected, topics.ChatAgentConnected),
		bustest.Capture(&updated, topics.ThreadUpdated),
	)
	require.True(t, bustest.AssertCount(t, loggedIn, 1))
	login, _ := loggedIn.Last()
	assert.Equal(t, "olivia", login.Operator.Login)
	bustest.AssertCount(t, ready, 1, "alice's chat started with an operator online")

	f.must(t, "POST", "/threads/"+itoa(f.thread)+"/join", f.opToken, "", nil)
	require.True(t, bustest.AssertCount(t, connected, 1))
	c, _ := connected.Last()
	assert.Equal(t, topics.ThreadID(f.thread), c.Thread)
	assert.Equal(t, []topics.ChatAgent{{ID: login.Operator.ID, Name: "Olivia", Connected: true}}, c.Agents)
	require.NotNil(t, c.Message)
	assert.Equal(t, topics.MessageKindConn, c.Message.Kind)
	assert.Equal(t, "Olivia joined the chat", c.Message.Body)
	u, _ := updated.Last()
	assert.Equal(t, topics.ThreadStateQueue, u.Original.State)
	assert.Equal(t, topics.ThreadStateChatting, u.Thread.State)
}

func TestUserReadyOnlyWithAnOperatorOnline(t *testing.T) {
	var (
		svc     *desk.Service
		created *bustest.Recorder[topics.ThreadEvent]
		started *bustest.Recorder[topics.ChatEvent]
		ready   *bustest.Recorder[topics.ThreadEvent]
		visitor *bustest.Recorder[topics.VisitorEvent]
		tracked *bustest.Recorder[topics.VisitorEvent]
	)
	fxtest.New(t, bus.Module, telemetry.Module, desk.Module, httpapi.Module, logTo(t), fx.NopLogger, fx.Populate(&svc),
		bustest.Capture(&created, topics.ThreadCreated),
		bustest.Capture(&started, topics.ChatStarted),
		bustest.Capture(&ready, topics.ThreadUserReady),
		bustest.Capture(&visitor, topics.VisitorCreated),
		bustest.Capture(&tracked, topics.VisitorTracked),
	)
	ctx := context.Background()
	tr, err := svc.TrackVisitor(ctx, desk.Arrival{UserID: "alice"})
	require.NoError(t, err)
	require.NotEmpty(t, tr.Token)
	c, ok := svc.Caller(tr.Token)
	require.True(t, ok)
	ctx = topics.WithCaller(ctx, c)
	_, err = svc.TrackVisitor(ctx, desk.Arrival{UserID: "alice"})
	require.NoError(t, err)
	bustest.AssertCount(t, visitor, 1, "created once")
	bustest.AssertCount(t, tracked, 2, "tracked each time")

	th, isReady, err := svc.StartChat(ctx, desk.ChatRequest{})
	require.NoError(t, err)
	assert.False(t, isReady)
	bustest.AssertCount(t, created, 1)
	bustest.AssertPublished(t, started, func(e *topics.ChatEvent) bool { return e.Thread == th.ID })
	bustest.AssertCount(t, ready, 0, "no operator online")
}

func TestTicketsThroughTheDataHooks(t *testing.T) {
	var (
		tickets   *bustest.Recorder[topics.ObjectEvent]
		incidents *bustest.Recorder[topics.ObjectEvent]
		documents *bustest.Recorder[topics.ObjectEvent]
		updated   *bustest.Recorder[topics.ObjectUpdate]
	)
	f := newFixture(t,
		bustest.Capture(&tickets, topics.ObjectCreated, bus.FromSource[topics.Ticket]()),
		bustest.Capture(&incidents, topics.ObjectCreated, bus.FromSource[*topics.Incident]()),
		bustest.Capture(&documents, topics.ObjectCreated, bus.FromSource[*topics.Document]()),
		bustest.Capture(&updated, topics.ObjectUpdated, bus.FromSource[topics.Ticket]()),
		bus.Listen(topics.DataCreate.Before(), func(ctx context.Context, r *topics.DataRequest) error {
			if title, _ := r.Record["title"].(string); strings.Contains(title, "forbidden") {
				return errors.New("no such titles")
			}
			r.Record["description"] = "triaged"
			return nil
		}, topics.DataCreate.Before().When(func(r *topics.DataRequest) bool { return r.Table == topics.TableTickets })),
		bus.Listen(topics.DataCreate.After(), func(_ context.Context, r *hook.Result[topics.DataRequest, topics.DataResult]) error {
			if r.Err == nil {
				r.Res.Records[0]["queue"] = "first line"
			}
			return nil
		}, topics.DataCreate.After().When(func(r *hook.Result[topics.DataRequest, topics.DataResult]) bool {
			return r.Req.Table == topics.TableTickets
		})),
	)
	bustest.AssertCount(t, tickets, 1, "the fixture's request")
	bustest.AssertCount(t, documents, 1, "the fixture's document")

	var rec map[string]any
	f.must(t, "POST", "/tickets", f.opToken, `{"class":"Incident","title":"Widget down","impact":2,"urgency":1}`, &rec)
	assert.Equal(t, "triaged", rec["description"], "the before handler changed the record stored")
	assert.Equal(t, "first line", rec["queue"], "the after handler changed the result")
	bustest.AssertCount(t, tickets, 2, "a listener on Ticket hears requests and incidents")
	require.True(t, bustest.AssertCount(t, incidents, 1, "a listener on *Incident hears incidents only"))
	inc, _ := incidents.Last()
	assert.Equal(t, "Widget down", inc.Object.(*topics.Incident).Title)
	assert.Equal(t, topics.Priority(2), inc.Object.(*topics.Incident).Impact)
	bustest.AssertCount(t, documents, 1)

	w := f.do("POST", "/tickets", f.opToken, `{"class":"Incident","title":"forbidden words"}`)
	assert.Equal(t, 403, w.Code, "a veto of the before stage")
	assert.Contains(t, w.Body.String(), "no such titles")
	bustest.AssertCount(t, tickets, 2)

	f.must(t, "PATCH", "/tickets/"+itoa(f.ticket), f.opToken, `{"status":"assigned","agent_id":1}`, &rec)
	require.True(t, bustest.AssertCount(t, updated, 1))
	u, _ := updated.Last()
	assert.Equal(t, map[string]any{"Status": topics.TicketStatusAssigned, "AgentID": topics.OperatorID(1)}, u.Changes)
	assert.Equal(t, topics.TicketStatusAssigned, u.Object.(*topics.UserRequest).Status)
}

func TestDocumentDownloadedFromItsDocument(t *testing.T) {
	var downloads *bustest.Recorder[topics.DocumentDownload]
	f := newFixture(t, bustest.Capture(&downloads, topics.ObjectDocumentDownloaded, bus.FromSource[*topics.Document]()))
	f.must(t, "GET", "/documents/"+itoa(f.document)+"/download?disposition=inline", f.opToken, "", nil)
	require.True(t, bustest.AssertCount(t, downloads, 1))
	d, _ := downloads.Last()
	assert.Equal(t, "Greeting", d.Object.(*topics.Document).Name)
	assert.Equal(t, "hello", string(d.File.Data))
	assert.Equal(t, "File", d.Attribute)
	assert.Equal(t, topics.DispositionInline, d.Disposition)
	assert.Equal(t, "hello.txt", d.DebugInfo)
}

func TestCallerReachesTheHooks(t *testing.T) {
	var seen []topics.Caller
	var headers map[string]string
	f := newFixture(t,
		bus.Listen(topics.MessagingPublish.Before(), func(ctx context.Context, r *topics.PublishRequest) error {
			c, ok := topics.CallerFrom(ctx)
			if !ok || c.Anonymous() {
				return errors.New("log in to publish")
			}
			seen, headers = append(seen, c), r.Headers
			return nil
		}),
		bus.Listen(topics.UserRegister.Before(), func(_ context.Context, r *topics.RegisterRequest) error {
			r.Roles = append(r.Roles, "vip")
			return nil
		}),
	)
	w := f.do("POST", "/channels/operators/messages", "", `{"message":"hi"}`)
	assert.Equal(t, 401, w.Code, "the desk refuses an anonymous caller before the hook runs")

	f.must(t, "POST", "/channels/operators/messages", f.userToken, `{"message":"hi","headers":{"lang":"en"}}`, nil)
	require.Len(t, seen, 1)
	assert.Equal(t, "u1", seen[0].UserID)
	assert.Equal(t, []string{desk.RoleUser, "vip"}, seen[0].Roles, "the register hook added a role, the login kept it")
	assert.Equal(t, f.userToken, seen[0].Token)
	assert.Equal(t, map[string]string{"lang": "en", "publisher": "u1"}, headers)

	f.must(t, "POST", "/channels/operators/messages", f.opToken, `{"message":"hi"}`, nil)
	require.Len(t, seen, 2)
	assert.Equal(t, "operator:olivia", seen[1].UserID)
	assert.Equal(t, []string{desk.RoleOperator}, seen[1].Roles)
}

func TestLoginAfterHookShapesTheSession(t *testing.T) {
	f := newFixture(t,
		bus.Listen(topics.UserLogin.After(), func(_ context.Context, r *hook.Result[topics.LoginRequest, topics.Session]) error {
			if r.Err == nil {
				r.Res.Roles = append(r.Res.Roles, "beta")
			}
			return nil
		}),
	)
	var login httpapi.LoginJSON
	f.must(t, "POST", "/users/login", "", `{"login":"carol","password":"pw"}`, &login)
	assert.Equal(t, []string{desk.RoleUser, "beta"}, login.Roles)
	c, ok := f.svc.Caller(login.Token)
	require.True(t, ok)
	assert.Equal(t, []string{desk.RoleUser, "beta"}, c.Roles, "the session keeps the roles the after handler left")
}

func TestFunctionFailureAndCronErrors(t *testing.T) {
	f := newFixture(t,
		bus.Listen(topics.ThreadFunctionCall, func(_ context.Context, c *topics.FunctionCall) error {
			if c.Function == "boom" {
				return errors.New("boom failed")
			}
			return nil
		}),
		bus.Listen(topics.CronRun, func(context.Context, *topics.CronTick) error { return errors.New("disk full") }),
	)
	w := f.do("POST", "/threads/"+itoa(f.thread)+"/functions/boom", f.aliceToken, "")
	assert.Equal(t, 422, w.Code)
	assert.Contains(t, w.Body.String(), "boom failed")

	var res httpapi.CronJSON
	f.must(t, "POST", "/cron", f.opToken, "", &res)
	require.Len(t, res.Errors, 1)
	assert.Contains(t, res.Errors[0], "disk full")
	assert.Equal(t, 1, res.Counts["tickets"])
}

func TestCloseThread(t *testing.T) {
	var (
		closed *bustest.Recorder[topics.ThreadEvent]
		ended  *bustest.Recorder[topics.ChatEvent]
	)
	f := newFixture(t, bustest.Capture(&closed, topics.ThreadClosed), bustest.Capture(&ended, topics.ChatEnded))
	path := "/threads/" + itoa(f.thread)
	f.must(t, "POST", path+"/close", f.aliceToken, "", nil)
	bustest.AssertCount(t, closed, 1)
	bustest.AssertPublished(t, ended, func(e *topics.ChatEvent) bool { return e.Thread == topics.ThreadID(f.thread) })
	assert.Equal(t, 409, f.do("POST", path+"/close", f.aliceToken, "").Code)
	assert.Equal(t, 409, f.do("POST", path+"/messages", f.aliceToken, `{"body":"hi"}`).Code)
	assert.Equal(t, 409, f.do("POST", path+"/join", f.opToken, "").Code)
	assert.Equal(t, 404, f.do("POST", "/threads/999/close", f.opToken, "").Code)
}

func TestRoutesAlteredAndResourcesNotFound(t *testing.T) {
	f := newFixture(t,
		bus.Listen(topics.RoutingAlter, func(_ context.Context, rc *topics.RouteCollection) error {
			rc.Routes = append(rc.Routes, topics.Route{Name: "static.css", Pattern: "GET /static/desk.css",
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					c, _ := topics.CallerFrom(r.Context())
					w.Header().Set("Content-Type", "text/css")
					_, _ = w.Write([]byte("/* " + c.UserID + " */"))
				})})
			return nil
		}),
		bus.Listen(topics.ResourceNotFound, func(_ context.Context, rr *topics.ResourceRequest) error {
			if rr.Request.URL.Path == "/old-widget.js" {
				rr.Response = &topics.Response{Status: http.StatusGone, Header: http.Header{"X-Moved": {"/static/desk.js"}}, Body: []byte("gone")}
			}
			return nil
		}),
	)
	w := f.do("GET", "/static/desk.css", f.userToken, "")
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "/* u1 */", w.Body.String(), "a route a listener added, behind the caller middleware")

	w = f.do("GET", "/old-widget.js", "", "")
	assert.Equal(t, http.StatusGone, w.Code)
	assert.Equal(t, "/static/desk.js", w.Header().Get("X-Moved"))
	assert.Equal(t, "gone", w.Body.String())
	assert.Equal(t, 404, f.do("GET", "/other", "", "").Code)
}

func TestRoutesConflict(t *testing.T) {
	var api *httpapi.API
	fxtest.New(t, bus.Module, telemetry.Module, desk.Module, httpapi.Module, logTo(t), fx.NopLogger, fx.Populate(&api),
		bus.Listen(topics.RoutingAlter, func(_ context.Context, rc *topics.RouteCollection) error {
			rc.Routes = append(rc.Routes, topics.Route{Name: "mine", Pattern: "GET /healthz", Handler: http.NotFoundHandler()})
			return nil
		}))
	_, err := api.Handler(context.Background())
	assert.ErrorContains(t, err, `route "mine": pattern "GET /healthz" is served twice`)
}

func TestPageAssetsLighterFirst(t *testing.T) {
	f := newFixture(t, bus.Listen(topics.PageAddCSS, func(_ context.Context, p *topics.PageAssets) error {
		p.Assets = append(p.Assets,
			topics.Asset{Kind: topics.AssetKindInline, Content: "body{margin:0}", Weight: -5},
			topics.Asset{Kind: topics.AssetKindAbsoluteURL, Content: "https://cdn.example/late.css", Weight: 5})
		return nil
	}, bus.Rank(20)))
	var assets httpapi.PageAssetsJSON
	f.must(t, "GET", "/page/assets", "", "", &assets)
	var got []string
	for _, a := range assets.CSS {
		got = append(got, a.Kind+" "+a.Content)
	}
	assert.Equal(t, []string{
		"inline body{margin:0}", "relative_url /static/desk.css", "relative_url /static/widget-theme.css",
		"absolute_url https://cdn.example/late.css",
	}, got)
	w := f.do("GET", "/chat", "", "")
	assert.Contains(t, w.Body.String(), "<style>body{margin:0}</style>")
	assert.Contains(t, w.Body.String(), `<link rel="stylesheet" href="https://cdn.example/late.css">`)
}
