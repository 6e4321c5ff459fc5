package desk_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/app/demo"
	"github.com/fxbus/fxbus/app/desk"
	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/modules/webhooks"
	"github.com/fxbus/fxbus/topics"
)

// The fakes stand in for the modules of modules/, to the contract the desk
// and its scenario are written against, until the app wires the real ones.

// fakeModules are the fakes of the sso, moderation, functions, assets,
// widget and webhooks modules.
func fakeModules() fx.Option {
	return fx.Options(
		bus.Listen(topics.OperatorAuthenticate, fakeSSO()),
		fx.Provide(newFakeModeration),
		bus.Publishes(topics.ModerationBanRequested),
		bus.Listen(topics.ThreadMessagePosting, (*fakeModeration).rewrite, bus.Rank(-10)),
		bus.Listen(topics.ThreadMessagePosting, (*fakeModeration).count),
		bus.Listen(topics.ThreadFunctionCall, fakeFunctions),
		bus.Listen(topics.PageAddCSS, addAsset("/static/desk.css"), bus.Name("assets.css")),
		bus.Listen(topics.PageAddJS, addAsset("/static/desk.js"), bus.Name("assets.js")),
		bus.Listen(topics.PageAddCSS, addAsset("/static/widget-theme.css"), bus.Name("widget.css"), bus.Rank(10)),
	)
}

// testSecret is the single sign-on secret of the tests.
var testSecret = []byte("the-tests-single-sign-on-secret-32")

// fakeSSO authenticates the operator whose login and timestamp
// X-SSO-Signature signs with testSecret, and refuses a forged signature
// and one used already. (The real module also refuses expired ones: see
// its tests.)
func fakeSSO() func(context.Context, *topics.Authentication) error {
	var mu sync.Mutex
	used := map[string]bool{}
	return func(_ context.Context, a *topics.Authentication) error {
		login := a.Request.Header.Get(demo.HeaderSSOLogin)
		if login == "" {
			return nil
		}
		secs, _ := strconv.ParseInt(a.Request.Header.Get(demo.HeaderSSOTimestamp), 10, 64)
		want := demo.SignSSO(testSecret, login, time.Unix(secs, 0))
		sig := a.Request.Header.Get(demo.HeaderSSOSignature)
		if !hmac.Equal([]byte(want), []byte(sig)) {
			return errors.New("sso: forged signature")
		}
		mu.Lock()
		defer mu.Unlock()
		if used[sig] {
			return errors.New("sso: replayed signature")
		}
		used[sig] = true
		a.Operator = &topics.Operator{Login: login, CommonName: strings.ToUpper(login[:1]) + login[1:]}
		return bus.ErrStop
	}
}

// fakeModeration rewrites "darn" and "heck", and asks for a ban at a
// visitor's second abusive message.
type fakeModeration struct {
	b *bus.Bus

	mu     sync.Mutex
	abuses map[topics.UserID]int
}

func newFakeModeration(b *bus.Bus) *fakeModeration {
	return &fakeModeration{b: b, abuses: map[topics.UserID]int{}}
}

var abusive = regexp.MustCompile(`\b(darn|heck)\b`)

func (m *fakeModeration) rewrite() func(context.Context, *topics.MessagePosting) error {
	return func(_ context.Context, p *topics.MessagePosting) error {
		p.Body = abusive.ReplaceAllString(p.Body, "****")
		return nil
	}
}

func (m *fakeModeration) count() func(context.Context, *topics.MessagePosting) error {
	return func(ctx context.Context, p *topics.MessagePosting) error {
		if p.Kind != topics.MessageKindUser || !strings.Contains(p.Body, "****") {
			return nil
		}
		m.mu.Lock()
		m.abuses[p.Thread.UserID]++
		n := m.abuses[p.Thread.UserID]
		m.mu.Unlock()
		if n == 2 {
			return topics.ModerationBanRequested.Publish(ctx, m.b, &topics.BanRequest{
				UserID: p.Thread.UserID, Address: p.Thread.Remote, Reason: "abusive language", By: "moderation",
			})
		}
		return nil
	}
}

// fakeFunctions implements echo and now.
func fakeFunctions(_ context.Context, c *topics.FunctionCall) error {
	switch c.Function {
	case "echo":
		c.Results["text"] = c.Arguments["text"]
	case "now":
		c.Results["time"] = time.Now().UTC().Format(time.RFC3339)
	}
	return nil
}

func addAsset(url string) func(context.Context, *topics.PageAssets) error {
	return func(_ context.Context, p *topics.PageAssets) error {
		p.Assets = append(p.Assets, topics.Asset{Kind: topics.AssetKindRelativeURL, Content: url})
		return nil
	}
}

// fakeWebhooks posts to the receiver what its fixed rules pass: the bans
// created and the incidents created, nothing else.
func fakeWebhooks() fx.Option {
	post := func(r *demo.WebhookReceiver, topic string, event any) error {
		b, err := json.Marshal(map[string]any{"topic": topic, "event": event})
		if err != nil {
			return err
		}
		req, err := http.NewRequest(http.MethodPost, r.URL(), bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set(webhooks.HeaderSignature, webhooks.Sign(r.Secret(), b, time.Now()))
		req.Header.Set(webhooks.HeaderDelivery, rand.Text())
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		return res.Body.Close()
	}
	return fx.Options(
		bus.Listen(topics.BanCreated, func(r *demo.WebhookReceiver) func(context.Context, *topics.BanEvent) error {
			return func(_ context.Context, e *topics.BanEvent) error { return post(r, topics.BanCreated.Name(), e) }
		}),
		bus.Listen(topics.ObjectCreated, func(r *demo.WebhookReceiver) func(context.Context, *topics.ObjectEvent) error {
			return func(_ context.Context, e *topics.ObjectEvent) error { return post(r, topics.ObjectCreated.Name(), e) }
		}, bus.FromSource[*topics.Incident]()),
	)
}

// logTo is a desk config that logs to the test.
func logTo(t *testing.T) fx.Option {
	return desk.WithConfig(desk.Config{LogOutput: testWriter{t}, SSOSecret: testSecret})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
