package hook_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/hook"
)

type (
	saveReq struct{ Title string }
	saveRes struct{ ID int }
)

// A hook runs before handlers, the operation, and after handlers: before
// handlers change the request or veto the call, after handlers change the
// result or the error.
func Example() {
	save := hook.New[saveReq, saveRes]("Data.save")
	errEmpty := errors.New("empty title")
	b, _ := bus.New([]bus.Listener{
		bus.On(save.Before(), func(_ context.Context, r *saveReq) error {
			if r.Title == "" {
				return errEmpty // veto
			}
			r.Title = strings.TrimSpace(r.Title)
			return nil
		}),
		bus.On(save.After(), func(_ context.Context, r *hook.Result[saveReq, saveRes]) error {
			if r.Err != nil { // turn the failure into a result
				r.Res, r.Err = &saveRes{ID: -1}, nil
			}
			return nil
		}),
	})
	store := func(_ context.Context, r *saveReq) (*saveRes, error) {
		if r.Title == "full" {
			return nil, errors.New("table full")
		}
		fmt.Printf("stored %q\n", r.Title)
		return &saveRes{ID: 1}, nil
	}
	ctx := context.Background()
	res, err := save.Run(ctx, b, &saveReq{Title: "  hello "}, store)
	fmt.Println(res.ID, err)
	res, err = save.Run(ctx, b, &saveReq{Title: "full"}, store)
	fmt.Println(res.ID, err)
	_, err = save.Run(ctx, b, &saveReq{}, store)
	fmt.Println(errors.Is(err, hook.ErrVetoed), errors.Is(err, errEmpty))
	// Output:
	// stored "hello"
	// 1 <nil>
	// -1 <nil>
	// true true
}
