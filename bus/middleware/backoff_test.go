package middleware

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestBackoffIsJitteredUnderAnExponentialCap(t *testing.T) {
	top := func(n int64) int64 { return n - 1 } // the largest draw
	zero := func(int64) int64 { return 0 }
	base, max := 10*time.Millisecond, 100*time.Millisecond
	for i, want := range []time.Duration{10, 20, 40, 80, 100, 100} {
		assert.Equal(t, want*time.Millisecond, backoff(base, max, i, top), "retry %d", i)
		assert.Zero(t, backoff(base, max, i, zero))
	}
	assert.Equal(t, max, backoff(base, max, 200, top), "no overflow for a large i")
	assert.Equal(t, time.Duration(1<<62), backoff(1, 1<<62, 70, top))
}
