package main

import (
	"bytes"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkSync/lib=plain/handlers=1-2     	100	 2.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkSync/lib=fxbus/handlers=1-2     	100	 3.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkSync/lib=plain/handlers=1-2     	100	 4.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkSync/lib=fxbus/handlers=1-2     	100	 6.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkSync/lib=fxbus/handlers=1-2     	100	 9.00 ns/op	 0 B/op	 0 allocs/op
BenchmarkTracing/mode=sampled/impl=direct/handlers=10-2 	10	 1000 ns/op	 9 allocs/op
BenchmarkTracing/mode=sampled/impl=fxbus/handlers=10-2  	10	 1100 ns/op	 10 allocs/op
BenchmarkTracing/mode=sampled/impl=direct/handlers=10-2 	10	 3000 ns/op	 9 allocs/op
BenchmarkTracing/mode=sampled/impl=fxbus/handlers=10-2  	10	 3300 ns/op	 10 allocs/op
BenchmarkTracing/mode=sampled/impl=direct/handlers=10-2 	10	 1000 ns/op	 9 allocs/op
BenchmarkTracing/mode=sampled/impl=fxbus/handlers=10-2  	10	 1100 ns/op	 10 allocs/op
BenchmarkTracing/mode=unsampled/impl=direct/handlers=10-2 	10	 500 ns/op	 3 allocs/op
BenchmarkTracing/mode=unsampled/impl=fxbus/handlers=10-2  	10	 250 ns/op	 4 allocs/op
BenchmarkTracing/mode=unsampled/impl=direct/handlers=10-2 	10	 400 ns/op	 3 allocs/op
BenchmarkTracing/mode=unsampled/impl=fxbus/handlers=10-2  	10	 800 ns/op	 4 allocs/op
BenchmarkTracing/mode=unsampled/impl=direct/handlers=10-2 	10	 2000 ns/op	 3 allocs/op
BenchmarkTracing/mode=unsampled/impl=fxbus/handlers=10-2  	10	 1000 ns/op	 4 allocs/op
PASS
`

func TestRender(t *testing.T) {
	tables := map[string]*table{}
	if err := parse(strings.NewReader(sample), tables); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, g := range groups {
		if tb := tables[g.bench]; tb != nil {
			render(&out, g, tb)
		}
	}
	for _, want := range []string{
		"| `plain` | 3.0 ns | 0 | 1.00x |",             // median of 2 and 4
		"| `fxbus` | 6.0 ns | 0 | 2.00x |",             // unequal counts: median of 3, 6, 9 over median of 2, 4
		"| `sampled / fxbus` | 1100 ns | 10 | 1.10x |", // paired: 1.1 in every round
		// medians 800 / 500 = 1.6, but paired per round: median of 0.5, 2, 0.5
		"| `unsampled / fxbus` | 800 ns | 4 | 0.50x |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
