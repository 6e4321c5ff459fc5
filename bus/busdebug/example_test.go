package busdebug_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdebug"
)

type Signup struct{ Plan string }

var signedUp = bus.NewTopic[Signup]("account.signed_up", bus.Description("a visitor opened an account"))

// Mount the debug page behind the service's own authentication; it serves
// the catalogue at its prefix, and the graph, the monitor and the
// statistics below it.
func Example() {
	b, _ := bus.New([]bus.Listener{
		bus.On(signedUp, func(context.Context, *Signup) error { return nil }, bus.Name("welcome.mail"), bus.InModule("mail")),
	})
	defer b.Close()
	debug := busdebug.New(b, busdebug.WithTraceURL("http://jaeger:16686/trace/{trace_id}"))
	defer debug.Close()

	mux := http.NewServeMux()
	mux.Handle(debug.Prefix()+"/", operatorsOnly(debug))

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/debug/fxbus/", nil)
	req.Header.Set("Authorization", "Bearer operator")
	mux.ServeHTTP(rec, req)
	page := rec.Body.String()
	fmt.Println(rec.Code, strings.Contains(page, "<code>account.signed_up</code>"), strings.Contains(page, "welcome.mail"))
	// Output: 200 true true
}

// operatorsOnly stands for the service's authentication.
func operatorsOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer operator" {
			http.Error(w, "operators only", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}
