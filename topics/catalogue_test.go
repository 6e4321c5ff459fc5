package topics_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// areas maps each file that declares topics to its area, the prefix of its
// topics' names, in the order of All: Mibew's catalogue, then the chat
// widget service, then the objects.
var areas = []struct{ file, area string }{
	{"ban.go", "ban"},
	{"button.go", "button"},
	{"cron.go", "cron"},
	{"group.go", "group"},
	{"invitation.go", "invitation"},
	{"operator.go", "operator"},
	{"page.go", "page"},
	{"resource.go", "resource"},
	{"routing.go", "routing"},
	{"thread.go", "thread"},
	{"users.go", "users"},
	{"visitor.go", "visitor"},
	{"widget.go", "widget"},
	{"chat.go", "chat"},
	{"objects.go", "object"},
	{"moderation.go", "moderation"},
	{"user.go", "user"},
	{"data.go", "data"},
	{"messaging.go", "messaging"},
}

// decl is a topic declared in the package's source: by a bus.NewTopic
// call, or one of the two of a hook.New call.
type decl struct {
	file    string // base name
	varName string // the package-level variable it initialises
	name    string // the topic's name, a string literal
	doc     string // the variable's doc comment
	descr   bool   // whether it is given bus.Description
	hook    string // for a hook's topic, the hook's name
}

// parsePackage parses the package's non-test files, sorted by name.
func parsePackage(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		require.NoError(t, err)
		files = append(files, f)
	}
	require.NotEmpty(t, files)
	return fset, files
}

// isCall reports whether e calls bus.<fn>, or <pkg>.<fn> for a fn of
// "<pkg>.<fn>", with or without type arguments.
func isCall(e ast.Expr, fn string) (*ast.CallExpr, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return nil, false
	}
	f := call.Fun
	switch x := f.(type) {
	case *ast.IndexExpr:
		f = x.X
	case *ast.IndexListExpr:
		f = x.X
	}
	want := "bus"
	if p, name, ok := strings.Cut(fn, "."); ok {
		want, fn = p, name
	}
	sel, ok := f.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != fn {
		return nil, false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return call, ok && pkg.Name == want
}

// declarations finds every bus.NewTopic and hook.New call of the
// package, in file and source order, and fails the test on one that is not
// the value of a package-level variable with a literal name. A hook
// declares two topics, "<name>.before" and "<name>.after".
func declarations(t *testing.T) []decl {
	t.Helper()
	fset, files := parsePackage(t)
	var decls []decl
	for _, f := range files {
		file := filepath.Base(fset.Position(f.Pos()).Filename)
		found := 0
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, v := range vs.Values {
					// bus.NewTopic[T](...).SpanAttributes(fn) declares the topic too.
					if c, ok := v.(*ast.CallExpr); ok {
						if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "SpanAttributes" {
							v = sel.X
						}
					}
					call, ok := isCall(v, "NewTopic")
					hook := false
					if !ok {
						if call, ok = isCall(v, "hook.New"); !ok {
							continue
						}
						hook = true
					}
					found++
					require.Len(t, vs.Names, len(vs.Values), "%s: one topic per variable", fset.Position(v.Pos()))
					require.NotEmpty(t, call.Args, "%s: NewTopic without a name", fset.Position(v.Pos()))
					lit, ok := call.Args[0].(*ast.BasicLit)
					require.True(t, ok && lit.Kind == token.STRING,
						"%s: the topic's name must be a string literal", fset.Position(v.Pos()))
					doc := vs.Doc
					if doc == nil && len(gd.Specs) == 1 {
						doc = gd.Doc
					}
					dc := decl{file: file, varName: vs.Names[i].Name, name: strings.Trim(lit.Value, "`\"")}
					if doc != nil {
						dc.doc = doc.Text()
					}
					for _, a := range call.Args[1:] {
						if _, ok := isCall(a, "Description"); ok {
							dc.descr = true
						}
					}
					if !hook {
						decls = append(decls, dc)
						continue
					}
					dc.hook = dc.name
					before, after := dc, dc
					before.name, after.name = dc.name+".before", dc.name+".after"
					decls = append(decls, before, after)
				}
			}
		}
		// Any other call of NewTopic, in a function say, would escape All.
		all := 0
		ast.Inspect(f, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok {
				if _, ok := isCall(e, "NewTopic"); ok {
					all++
				}
				if _, ok := isCall(e, "hook.New"); ok {
					all++
				}
			}
			return true
		})
		require.Equal(t, all, found, "%s: every bus.NewTopic and hook.New must initialise a package-level variable", file)
	}
	return decls
}

func areaOf(file string) (area string, order int) {
	for i, a := range areas {
		if a.file == file {
			return a.area, i
		}
	}
	return "", -1
}

// TestAllIsTheWholeCatalogue proves that All lists every topic declared in
// the package, once, grouped by area and in declaration order: a topic
// declared but forgotten in All fails here.
func TestAllIsTheWholeCatalogue(t *testing.T) {
	decls := declarations(t)
	for _, d := range decls {
		_, order := areaOf(d.file)
		require.GreaterOrEqual(t, order, 0, "%s declares topic %s but is not an area of the catalogue", d.file, d.varName)
	}
	slices.SortStableFunc(decls, func(a, b decl) int {
		_, i := areaOf(a.file)
		_, j := areaOf(b.file)
		return i - j
	})
	var want []string
	for _, d := range decls {
		want = append(want, d.name)
	}
	var got []string
	seen := map[bus.AnyTopic]bool{}
	for _, tp := range topics.All() {
		require.NotNil(t, tp)
		assert.False(t, seen[tp], "All lists %s twice", tp.Name())
		seen[tp] = true
		got = append(got, tp.Name())
	}
	assert.Equal(t, want, got, "All, against the bus.NewTopic calls of the package in area order")
	assert.NotSame(t, &topics.All()[0], &topics.All()[0], "All returns a new slice each time")
}

var nameStyle = regexp.MustCompile(`^[a-z]+\.[a-z]+(_[a-z]+)*(\.before|\.after)?$`)

// initialisms are the words of topic names that Go spells in capitals.
var initialisms = map[string]string{"css": "CSS", "js": "JS", "id": "ID", "url": "URL"}

// goName is the Go name of a topic name: "page.add_css" is PageAddCSS.
func goName(name string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return r == '.' || r == '_' }) {
		if s, ok := initialisms[w]; ok {
			b.WriteString(s)
			continue
		}
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}

// TestTopicNames proves that each topic's name is unique, in the
// "area.event" style, prefixed by the area of its file, and spelt like the
// Go variable that holds it.
func TestTopicNames(t *testing.T) {
	seen := map[string]string{}
	for _, d := range declarations(t) {
		area, _ := areaOf(d.file)
		assert.Regexp(t, nameStyle, d.name, "%s: lower-case area.event, words joined by _", d.varName)
		assert.True(t, strings.HasPrefix(d.name, area+"."), "%s %q is declared in %s: its area is %q", d.varName, d.name, d.file, area)
		if d.hook != "" {
			assert.Regexp(t, `\.(before|after)$`, d.name, "%s: a hook's topics", d.varName)
			assert.Equal(t, goName(d.hook), d.varName, "the Go name of hook %q", d.hook)
		} else {
			assert.Equal(t, goName(d.name), d.varName, "the Go name of topic %q", d.name)
		}
		if prev, dup := seen[d.name]; dup {
			t.Errorf("topic name %q is used by %s and %s", d.name, prev, d.varName)
		}
		seen[d.name] = d.varName
	}
	for _, tp := range topics.All() {
		_, ok := seen[tp.Name()]
		assert.True(t, ok, "All has %q, which no declaration has", tp.Name())
	}
}

// TestTopicDescriptions proves that every topic says when it fires, in its
// description for catalogues and in its doc comment for readers.
func TestTopicDescriptions(t *testing.T) {
	for _, d := range declarations(t) {
		assert.True(t, d.descr, "%s: give it bus.Description", d.varName)
		verb := " fires "
		if d.hook != "" {
			verb = " wraps "
		}
		assert.True(t, strings.HasPrefix(d.doc, d.varName+verb),
			"%s: its doc comment must start %q, saying when it fires; it is %q", d.varName, d.varName+verb, d.doc)
	}
	for _, tp := range topics.All() {
		desc := tp.Info().Description
		assert.NotEmpty(t, desc, "%s has no description", tp.Name())
		assert.NotContains(t, desc, "\n", "%s: a description is one line", tp.Name())
		assert.True(t, strings.HasSuffix(desc, "."), "%s: a description is a sentence: %q", tp.Name(), desc)
		assert.Equal(t, strings.TrimSpace(desc), desc, "%s: description has stray spaces", tp.Name())
	}
}

// TestDocumented proves that every exported name of the package has a doc
// comment starting with the name, and that every field of an exported
// struct, payloads included, and every method of an exported interface is
// documented.
func TestDocumented(t *testing.T) {
	fset, files := parsePackage(t)
	check := func(name string, doc *ast.CommentGroup, pos token.Pos) {
		if !ast.IsExported(name) {
			return
		}
		text := ""
		if doc != nil {
			text = doc.Text()
		}
		if !strings.HasPrefix(text, name+" ") {
			t.Errorf("%s: %s: doc comment must start with %q; it is %q", fset.Position(pos), name, name, text)
		}
	}
	documented := func(owner string, fl *ast.FieldList) {
		for _, f := range fl.List {
			if len(f.Names) == 0 {
				continue // embedded: documented where it is declared
			}
			if f.Doc == nil && f.Comment == nil {
				for _, n := range f.Names {
					if ast.IsExported(n.Name) {
						t.Errorf("%s: %s.%s is not documented", fset.Position(n.Pos()), owner, n.Name)
					}
				}
			}
		}
	}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				name := d.Name.Name
				if d.Recv != nil {
					// Methods of exported types only.
					rt := d.Recv.List[0].Type
					if s, ok := rt.(*ast.StarExpr); ok {
						rt = s.X
					}
					if id, ok := rt.(*ast.Ident); !ok || !ast.IsExported(id.Name) {
						continue
					}
				}
				check(name, d.Doc, d.Pos())
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch s := spec.(type) {
					case *ast.TypeSpec:
						doc := s.Doc
						if doc == nil && len(d.Specs) == 1 {
							doc = d.Doc
						}
						check(s.Name.Name, doc, s.Pos())
						if !ast.IsExported(s.Name.Name) {
							continue
						}
						switch ty := s.Type.(type) {
						case *ast.StructType:
							documented(s.Name.Name, ty.Fields)
						case *ast.InterfaceType:
							documented(s.Name.Name, ty.Methods)
						}
					case *ast.ValueSpec:
						doc := s.Doc
						if doc == nil && len(d.Specs) == 1 {
							doc = d.Doc
						}
						for _, n := range s.Names {
							check(n.Name, doc, n.Pos())
						}
					}
				}
			}
		}
	}
}

// TestObjectHierarchy pins the type hierarchy of the object events'
// sources, which listening by source type relies on: a listener on Ticket
// hears user requests and incidents, not documents.
func TestObjectHierarchy(t *testing.T) {
	object, ticket := reflect.TypeFor[topics.Object](), reflect.TypeFor[topics.Ticket]()
	for _, src := range []topics.Object{&topics.UserRequest{}, &topics.Incident{}, &topics.Document{}} {
		rt := reflect.TypeOf(src)
		assert.True(t, rt.AssignableTo(object), "%s is an Object", rt)
		assert.Equal(t, rt.Elem().Name(), src.Class(), "the class of %s", rt)
	}
	assert.True(t, reflect.TypeFor[*topics.UserRequest]().AssignableTo(ticket))
	assert.True(t, reflect.TypeFor[*topics.Incident]().AssignableTo(ticket))
	assert.False(t, reflect.TypeFor[*topics.Document]().AssignableTo(ticket))

	r := &topics.UserRequest{TicketInfo: topics.TicketInfo{ID: 7, Ref: "R-000007"}}
	var tk topics.Ticket = r
	assert.Equal(t, int64(7), tk.ObjectID())
	assert.Equal(t, "R-000007", tk.Ticket().Ref)
	assert.Same(t, &r.TicketInfo, tk.Ticket(), "Ticket gives the fields themselves, to read and to change")
}

// TestTopicsBuildABus proves that every topic's declaration is sound (its
// options agree with its payload): a bus knowing them all builds.
func TestTopicsBuildABus(t *testing.T) {
	b, err := bus.New(nil, bus.WithTopics(topics.All()...))
	require.NoError(t, err)
	require.NoError(t, b.Close())
}

// TestSpanAttributes proves that the topics that put payload content on
// their spans put identifiers and names only, never a message's body or a
// call's arguments.
func TestSpanAttributes(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { require.NoError(t, tp.Shutdown(context.Background())) })
	b, err := bus.New(nil, bus.WithTracerProvider(tp))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, b.Close()) })
	ctx := context.Background()

	require.NoError(t, topics.ThreadMessagePosting.Publish(ctx, b, &topics.MessagePosting{
		Thread: &topics.Thread{ID: 42}, Kind: topics.MessageKindUser, Body: "my card is 4111 1111 1111 1111",
	}))
	require.NoError(t, topics.ThreadFunctionCall.Publish(ctx, b, &topics.FunctionCall{
		Function: "microtime", Arguments: map[string]any{"secret": "s3cr3t"}, Results: map[string]any{},
	}))
	require.NoError(t, topics.BanCreated.Publish(ctx, b, &topics.BanEvent{Ban: &topics.Ban{Comment: "abuse"}}))

	spans := rec.Ended()
	require.Len(t, spans, 3)
	attrs := func(i int) map[string]string {
		m := map[string]string{}
		for _, kv := range spans[i].Attributes() {
			m[string(kv.Key)] = kv.Value.String()
		}
		return m
	}
	posting := attrs(0)
	assert.Equal(t, "42", posting["chat.thread.id"])
	assert.Equal(t, "user", posting["chat.message.kind"])
	call := attrs(1)
	assert.Equal(t, "microtime", call["chat.function.name"])
	for i := range spans {
		for k, v := range attrs(i) {
			assert.NotContains(t, v, "4111", "span %s attribute %s", spans[i].Name(), k)
			assert.NotContains(t, v, "s3cr3t", "span %s attribute %s", spans[i].Name(), k)
			assert.NotContains(t, v, "abuse", "span %s attribute %s", spans[i].Name(), k)
			assert.False(t, strings.HasPrefix(k, "chat.") && i == 2, "ban.created puts no payload on its span: %s", k)
		}
	}
}
