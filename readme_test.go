package fxbus_test

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// goBlock is a ```go block of a Markdown file.
type goBlock struct {
	line int // of its first line of code, 1-based
	code string
}

// goBlocks returns the ```go blocks of the Markdown file at path.
func goBlocks(t *testing.T, path string) []goBlock {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var (
		blocks []goBlock
		cur    *goBlock
		code   strings.Builder
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &goBlock{line: n + 1}
			code.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = code.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			code.WriteString(line + "\n")
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "%s: a ```go block is not closed", path)
	return blocks
}

// readmeGivens is what the README's Go blocks take as given, by a piece
// of text that identifies the block: the types, topics and functions its
// story is about. A block the README gains needs an entry here only when
// it uses names it does not declare.
var readmeGivens = map[string]string{
	"UserCreated struct": `
func sendWelcome(context.Context, *UserCreated) error { return nil }
func audit(context.Context, *UserCreated) error       { return nil }
`,
	"NewRewriteBody": `
type MessagePosting struct {
	Thread int
	Body   string
}
type Ban struct{ Thread int }
var ThreadMessagePosting = bus.NewTopic[MessagePosting]("thread.message_posting")
type Filter struct{}
func NewFilter() *Filter { return &Filter{} }
type Moderation struct{ bus *bus.Bus }
func NewRewriteBody(*Filter) func(context.Context, *MessagePosting) error { return nil }
`,
	"bustest.Record": ``,
	"ThreadPostMessage": `
type Thread struct{}
type PostMessage struct {
	Thread      *Thread
	MessageBody string
}
func censor(s string) string { return s }
var (
	th   *Thread
	body string
)
`,
	"type Ticket interface": `
type DBObject interface{ Key() string }
type UserRequest struct{}
func (*UserRequest) Key() string       { return "R-1" }
func (*UserRequest) TicketRef() string { return "R-1" }
type AfterWrite struct{ Object DBObject }
var DBAfterWrite = bus.NewTopic[AfterWrite]("db.after_write")
func onTicketWritten(context.Context, *AfterWrite) error { return nil }
func onRequest(context.Context, *AfterWrite) error       { return nil }
var obj DBObject = &UserRequest{}
`,
	"rules.New": `
type Node struct{}
var NodeAdded = bus.NewTopic[Node]("node.added")
type Event1Data struct {
	ID, Age int
	Name    string
	City    *string
}
var Event1 = bus.NewTopic[Event1Data]("Event1")
func onNode(context.Context, *Node) error { return nil }
`,
	"plugin.Register": `
type ChatReady struct{}
type ChatMessage struct{}
var WebChatService = struct {
	Ready           *bus.Topic[ChatReady]
	MessageReceived *bus.Topic[ChatMessage]
}{bus.NewTopic[ChatReady]("WebChatService.ready"), bus.NewTopic[ChatMessage]("WebChatService.messageReceived")}
func onReady(context.Context, *ChatReady) error     { return nil }
func onMessage(context.Context, *ChatMessage) error { return nil }
`,
	"MessagingPublish": `
type PublishReq struct{ Channel string }
func (r *PublishReq) ChannelOf() string { return r.Channel }
type PublishRes struct{}
const DefaultChannel = "default"
var errForbidden = errors.New("forbidden")
var (
	id, tok string
	roles   []string
	req     *PublishReq
)
func defaultPublish(context.Context, *PublishReq) (*PublishRes, error) { return &PublishRes{}, nil }
`,
}

// readmeImports are the packages a block may use, by the name it uses.
var readmeImports = map[string]string{
	"bus":        "github.com/fxbus/fxbus/bus",
	"bustest":    "github.com/fxbus/fxbus/bus/bustest",
	"hook":       "github.com/fxbus/fxbus/bus/hook",
	"plugin":     "github.com/fxbus/fxbus/bus/plugin",
	"rules":      "github.com/fxbus/fxbus/bus/rules",
	"unit":       "github.com/fxbus/fxbus/bus/unit",
	"topics":     "github.com/fxbus/fxbus/topics",
	"moderation": "github.com/fxbus/fxbus/modules/moderation",
	"analytics":  "github.com/fxbus/fxbus/modules/analytics",
	"bridge":     "github.com/fxbus/fxbus/bridge",
	"desk":       "github.com/fxbus/fxbus/app/desk",
	"fx":         "go.uber.org/fx",
	"fxtest":     "go.uber.org/fx/fxtest",
	"attribute":  "go.opentelemetry.io/otel/attribute",
	"context":    "context",
	"errors":     "errors",
	"fmt":        "fmt",
	"testing":    "testing",
}

// elided is how a block leaves out a function's body: "{ ... }".
var elided = regexp.MustCompile(`\{ \.\.\. \}`)

// blockSource turns a README block into a compilable file: its
// declarations at package level, its statements in a function that has
// ctx, b and t at hand, the givens of the block, and the imports it uses.
// Variables the statements declare are marked used, since a README
// fragment declares some only to show them.
func blockSource(b goBlock, givens string) (string, error) {
	code := elided.ReplaceAllString(b.code, `{ panic("elided") }`)
	var decls, stmts strings.Builder
	inDecl := false
	for i, line := range strings.SplitAfter(code, "\n") {
		top := line != "" && line[0] != '\t' && line[0] != ' '
		switch {
		case top && (strings.HasPrefix(line, "type ") || strings.HasPrefix(line, "var ") ||
			strings.HasPrefix(line, "func ") || strings.HasPrefix(line, "const ")):
			inDecl = true
		case top && (strings.HasPrefix(line, "}") || strings.HasPrefix(line, ")")):
			// ends whatever it is in
		case top || strings.TrimSpace(line) == "":
			inDecl = false
		}
		// A line directive makes the compiler's messages point into README.md.
		at := fmt.Sprintf("//line README.md:%d\n", b.line+i)
		if inDecl {
			decls.WriteString(at + line)
		} else {
			stmts.WriteString(at + line)
		}
	}
	fn := "func _(ctx context.Context, b *bus.Bus, t *testing.T) error {\n" + stmts.String()
	// Mark what the statements declare as used.
	f, err := parser.ParseFile(token.NewFileSet(), "", "package x\n"+fn+"\nreturn nil\n}\n", 0)
	if err != nil {
		return "", fmt.Errorf("the statements do not parse: %w", err)
	}
	var used []string
	for _, s := range f.Decls[0].(*ast.FuncDecl).Body.List {
		switch s := s.(type) {
		case *ast.AssignStmt:
			if s.Tok == token.DEFINE {
				for _, l := range s.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						used = append(used, id.Name)
					}
				}
			}
		case *ast.DeclStmt:
			for _, sp := range s.Decl.(*ast.GenDecl).Specs {
				if vs, ok := sp.(*ast.ValueSpec); ok {
					for _, id := range vs.Names {
						used = append(used, id.Name)
					}
				}
			}
		}
	}
	for _, name := range used {
		fn += "\t_ = " + name + "\n"
	}
	fn += "\treturn nil\n}\n"

	body := decls.String() + "\n//line readme_test.go(givens):1\n" + givens + "\n" + fn
	var imports []string
	for name, path := range readmeImports {
		if regexp.MustCompile(`\b` + name + `\.`).MatchString(body) {
			imports = append(imports, fmt.Sprintf("\t%s %q\n", name, path))
		}
	}
	slices.Sort(imports)
	return "package readme\n\nimport (\n" + strings.Join(imports, "") + ")\n\n" + body, nil
}

// Every Go block of README.md compiles, against the module as it is, with
// the givens above: a README that drifts from the API fails here.
func TestReadmeGoBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	blocks := goBlocks(t, "README.md")
	require.NotEmpty(t, blocks)

	// The blocks go in a directory inside the module, so that they import
	// its packages; its name begins with "_", so that ./... ignores it.
	dir, err := os.MkdirTemp(".", "_readmetest")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	where := map[string]goBlock{}
	var pkgs []string
	for i, b := range blocks {
		var givens string
		var found bool
		for key, g := range readmeGivens {
			if strings.Contains(b.code, key) {
				givens, found = g, true
				break
			}
		}
		src, err := blockSource(b, givens)
		require.NoError(t, err, "README.md:%d", b.line)
		pkg := fmt.Sprintf("block%02d", i)
		require.NoError(t, os.MkdirAll(filepath.Join(dir, pkg), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, pkg, "block.go"), []byte(src), 0o644))
		where[pkg] = b
		pkgs = append(pkgs, "./"+filepath.ToSlash(filepath.Join(dir, pkg)))
		if !found {
			t.Logf("README.md:%d: no givens in readmeGivens; compiling the block as it is", b.line)
		}
	}
	// Named one by one: ./... would skip a directory whose name begins
	// with "_".
	cmd := exec.Command(gobin, append([]string{"build"}, pkgs...)...)
	out, err := cmd.CombinedOutput()
	if err == nil {
		return
	}
	t.Errorf("README.md's Go blocks do not compile (line directives point into README.md):\n%s", out)
	for pkg := range where {
		if strings.Contains(string(out), pkg) {
			src, _ := os.ReadFile(filepath.Join(dir, pkg, "block.go"))
			t.Logf("%s:\n%s", pkg, src)
		}
	}
}

// A Markdown link or image: [text](target) or ![alt](target).
var mdLink = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)

// A code span naming a file of the repository: `docs/graph.svg`,
// `examples/README.md`, `bus/seeds_*_test.go`.
var mdPath = regexp.MustCompile("`([A-Za-z0-9_.*/-]+\\.(?:md|go|svg|dot|mmd|sh|golden|json))`")

// Every relative link in the repository's Markdown files, and every file
// a code span names, resolves to a file of the repository.
func TestMarkdownReferencesResolve(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || strings.HasPrefix(d.Name(), "_") || d.Name() == "node_modules" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return nil
	}))
	require.Contains(t, files, "README.md")
	for _, md := range files {
		data, err := os.ReadFile(md)
		require.NoError(t, err)
		inFence := false
		for n, line := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "```") {
				inFence = !inFence
				continue
			}
			if inFence {
				continue
			}
			for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				_, err := os.Stat(filepath.Join(filepath.Dir(md), target))
				assert.NoError(t, err, "%s:%d: link %q does not resolve", md, n+1, m[1])
			}
			for _, m := range mdPath.FindAllStringSubmatch(line, -1) {
				name := m[1]
				if !strings.Contains(name, "/") && !strings.HasSuffix(name, ".md") {
					continue // a bare file name, such as main.go, refers to context
				}
				candidates := []string{filepath.Join(filepath.Dir(md), name), name}
				ok := false
				for _, c := range candidates {
					if matches, _ := filepath.Glob(c); len(matches) > 0 {
						ok = true
					}
				}
				assert.True(t, ok, "%s:%d: %q names no file of the repository", md, n+1, name)
			}
		}
	}
}
