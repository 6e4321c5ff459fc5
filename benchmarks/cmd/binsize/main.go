// Command binsize measures what a payload type costs a program's binary: it
// writes two small programs, with n and 2n payload types, each type with a
// topic, a listener given to bus.New with bus.On, a bus.Listen in an fx app,
// a Subscribe and a Publish, as the reference app uses them; builds both,
// with and without -ldflags='-s -w'; and prints (size(2n)-size(n))/n.
//
// It measures two kinds of payload type: structs of distinct layouts, which
// the compiler instantiates generic code for one by one, and structs of one
// layout, which share the instantiations and cost only their own
// descriptors, dictionaries and the program's own functions.
//
//	cd benchmarks && go run ./cmd/binsize            # n=20
//	go run ./cmd/binsize -n 40 -nm                   # and what one type adds, by symbol
//
// It takes a minute or so: eight builds (four programs, stripped or not).
// A stripped binary grows by whole pages of 4 KB, so its figure is exact to
// 4096/n bytes: take n of 20 or more.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"
)

func main() {
	n := flag.Int("n", 20, "payload types of the smaller program; the larger has 2n")
	root := flag.String("root", "", "directory of module github.com/fxbus/fxbus (default: as go list resolves it here)")
	nm := flag.Bool("nm", false, "also list the symbols that one payload type of distinct layout adds")
	keep := flag.Bool("keep", false, "keep the generated programs and binaries, and print where")
	flag.Parse()
	if err := run(*n, *root, *nm, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "binsize:", err)
		os.Exit(1)
	}
}

func run(n int, root string, nm, keep bool) error {
	if n < 1 {
		return fmt.Errorf("-n %d: want at least 1", n)
	}
	if root == "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/fxbus/fxbus").Output()
		if err != nil {
			return fmt.Errorf("find github.com/fxbus/fxbus (give -root): %w", err)
		}
		root = strings.TrimSpace(string(out))
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "binsize-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("work directory:", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	if err := writeModule(dir, root); err != nil {
		return err
	}
	fmt.Printf("payload types: %d and %d; fxbus at %s\n\n", n, 2*n, root)
	fmt.Printf("%-9s %-12s %12s %12s %16s\n", "layouts", "ldflags", "size(n)", "size(2n)", "per type")
	for _, distinct := range []bool{true, false} {
		for _, strip := range []bool{false, true} {
			small, large, err := measure(dir, n, distinct, strip)
			if err != nil {
				return err
			}
			shape, flags := "same", "(none)"
			if distinct {
				shape = "distinct"
			}
			if strip {
				flags = "-s -w"
			}
			per := float64(large-small) / float64(n)
			fmt.Printf("%-9s %-12s %12d %12d %10.1f KB (%.0f B)\n", shape, flags, small, large, per/1024, per)
		}
	}
	if nm {
		bin, err := build(dir, 2*n, true, false)
		if err != nil {
			return err
		}
		return symbols(bin, n)
	}
	return nil
}

// measure builds the programs with n and 2n payload types, of distinct
// layouts or of one, stripped or not, in dir (see writeModule), and returns
// their sizes.
func measure(dir string, n int, distinct, strip bool) (small, large int64, err error) {
	var sizes [2]int64
	for i, count := range []int{n, 2 * n} {
		bin, err := build(dir, count, distinct, strip)
		if err != nil {
			return 0, 0, err
		}
		fi, err := os.Stat(bin)
		if err != nil {
			return 0, 0, err
		}
		sizes[i] = fi.Size()
	}
	return sizes[0], sizes[1], nil
}

// writeModule writes the go.mod and go.sum of a module that uses fxbus at
// root.
func writeModule(dir, root string) error {
	mod := fmt.Sprintf("module binsizeprobe\n\ngo 1.26.0\n\nrequire github.com/fxbus/fxbus v0.0.0-00010101000000-000000000000\n\nreplace github.com/fxbus/fxbus => %s\n", root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		return err
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644)
}

// build writes the program with count payload types under dir and builds
// it, and returns the binary's path.
func build(dir string, count int, distinct, strip bool) (string, error) {
	pkg := fmt.Sprintf("same%d", count)
	if distinct {
		pkg = fmt.Sprintf("distinct%d", count)
	}
	if err := os.MkdirAll(filepath.Join(dir, pkg), 0o755); err != nil {
		return "", err
	}
	var src bytes.Buffer
	types := make([]payload, count)
	for i := range types {
		types[i] = payload{I: i, Pad: 1}
		if distinct {
			types[i].Pad = i + 1
		}
	}
	if err := program.Execute(&src, types); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, pkg, "main.go"), src.Bytes(), 0o644); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, pkg+".bin")
	args := []string{"build", "-mod=mod", "-o", bin}
	if strip {
		bin += ".stripped"
		args = []string{"build", "-mod=mod", "-ldflags=-s -w", "-o", bin}
	}
	cmd := exec.Command("go", append(args, "./"+pkg)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./%s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// symbols lists the symbols of bin, a program with 2n payload types of
// distinct layouts, that belong to payload type n: named after it, or after
// its layout.
func symbols(bin string, n int) error {
	out, err := exec.Command("go", "tool", "nm", "-size", "-sort", "size", bin).Output()
	if err != nil {
		return fmt.Errorf("go tool nm: %w", err)
	}
	name := fmt.Sprintf("main.P%d", n)
	shape := fmt.Sprintf(" [%d]int64 }", n+1)
	type sym struct {
		size int64
		kind string
		name string
	}
	var syms []sym
	var total int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		full := strings.Join(f[3:], " ")
		if !strings.Contains(full, shape) && !mentions(full, name) {
			continue
		}
		size, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		syms = append(syms, sym{size, f[2], full})
		total += size
	}
	sort.SliceStable(syms, func(i, j int) bool { return syms[i].size > syms[j].size })
	fmt.Printf("\nsymbols of payload type P%d (named after it or its layout): %d, %d B in all\n", n, len(syms), total)
	for _, s := range syms {
		fmt.Printf("%8d %s %s\n", s.size, s.kind, s.name)
	}
	return nil
}

// mentions reports whether symbol s names the type name, and not a longer
// name that begins with it (main.P1 in main.P12).
func mentions(s, name string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], name)
		if j < 0 {
			return false
		}
		k := i + j + len(name)
		if k == len(s) || !('0' <= s[k] && s[k] <= '9') {
			return true
		}
		i = k
	}
}

type payload struct{ I, Pad int }

var program = template.Must(template.New("main").Parse(`// Code generated by benchmarks/cmd/binsize. DO NOT EDIT.

package main

import (
	"context"
	"sync/atomic"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

var sink atomic.Int64
{{range .}}
type P{{.I}} struct {
	ID   int64
	Name string
	Pad  [{{.Pad}}]int64
}

var T{{.I}} = bus.NewTopic[P{{.I}}]("p{{.I}}")

func onP{{.I}}(_ context.Context, p *P{{.I}}) error { sink.Add(p.ID); return nil }

func newOnP{{.I}}() func(context.Context, *P{{.I}}) error { return onP{{.I}} }
{{end}}
func main() {
	ctx := context.Background()
	app := fx.New(fx.NopLogger, bus.Module,
{{- range .}}
		bus.Listen(T{{.I}}, newOnP{{.I}}),
{{- end}}
		fx.Invoke(func(b *bus.Bus) error {
{{- range .}}
			if _, err := T{{.I}}.Subscribe(b, onP{{.I}}); err != nil {
				return err
			}
			if err := T{{.I}}.Publish(ctx, b, &P{{.I}}{ID: 1}); err != nil {
				return err
			}
{{- end}}
			return nil
		}))
	if err := app.Err(); err != nil {
		panic(err)
	}
	b, err := bus.New([]bus.Listener{
{{- range .}}
		bus.On(T{{.I}}, onP{{.I}}),
{{- end}}
	})
	if err != nil {
		panic(err)
	}
	defer b.Close()
{{- range .}}
	if err := T{{.I}}.Publish(ctx, b, &P{{.I}}{ID: 1}); err != nil {
		panic(err)
	}
{{- end}}
}
`))
