package dottest

import (
	"fmt"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
)

// recorder is a testing.TB that records instead of failing.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.failed, r.msg = true, fmt.Sprintf(f, a...)
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.failed, r.msg = true, fmt.Sprintf(f, a...)
	panic(r)
}
func (r *recorder) Skip(a ...any) {
	r.skipped = true
	panic(r)
}

func run(r *recorder, src string) (svg string) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
	}()
	return Render(r, src)
}

func TestRender(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		r := &recorder{TB: t}
		run(r, "digraph { a -> b }")
		assert.True(t, r.skipped, "no dot: skip")
		return
	}
	ok := &recorder{TB: t}
	assert.Contains(t, run(ok, `digraph { "a" -> "b" }`), "<svg")
	assert.False(t, ok.failed, ok.msg)

	bad := &recorder{TB: t}
	run(bad, "digraph { a -> }")
	assert.True(t, bad.failed)
	assert.Contains(t, bad.msg, "rejected the graph")
}
