package busdoc

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/fxbus/fxbus/bus"
)

// Options tune the renderings.
type Options struct {
	// Root, when set, is the directory that source paths are shown
	// relative to, such as the module's root; absolute paths otherwise.
	Root string
}

func (o Options) source(s bus.Source) string {
	if s.File == "" {
		return ""
	}
	f := s.File
	if o.Root != "" {
		if root, err := filepath.Abs(o.Root); err == nil {
			if rel, err := filepath.Rel(root, f); err == nil && !strings.HasPrefix(rel, "..") {
				f = filepath.ToSlash(rel)
			}
		}
	}
	return fmt.Sprintf("%s:%d", f, s.Line)
}

// Area is the part of a topic's name before its first dot: the group it is
// listed under.
func Area(topic string) string {
	area, _, _ := strings.Cut(topic, ".")
	return area
}

// JSON writes the catalogue as indented JSON, for tooling.
func JSON(w io.Writer, c bus.Catalog) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// Markdown writes the catalogue as a Markdown document in the spirit of
// Mibew's event list: topics grouped by area, each with when it fires, its
// payload items, its policy and its listeners in dispatch order.
func Markdown(w io.Writer, c bus.Catalog, o Options) error {
	ew := &errWriter{w: w}
	ew.printf("# Topics\n\n")
	areas := groupByArea(c)
	for _, a := range areas {
		ew.printf("* [%s](#%s): %d\n", a.name, anchor(a.name), len(a.topics))
	}
	for _, a := range areas {
		ew.printf("\n## %s\n", a.name)
		for _, t := range a.topics {
			ew.printf("\n### %s\n\n", t.Name)
			if t.Description != "" {
				ew.printf("%s\n\n", t.Description)
			}
			ew.printf("Payload: `%s`. Errors: %s. Listeners: %s.\n", t.Payload, t.ErrorPolicy, t.Requirement)
			if len(t.Fields) > 0 {
				ew.printf("\n")
				for _, f := range t.Fields {
					ew.printf("* `%s` (`%s`)", f.Name, f.Type)
					if f.Doc != "" {
						ew.printf(": %s", f.Doc)
					}
					ew.printf("\n")
				}
			}
			if len(t.Publishers) > 0 {
				ew.printf("\nPublished by:")
				for i, p := range t.Publishers {
					sep := ","
					if i == 0 {
						sep = ""
					}
					if p.Remote != "" {
						ew.printf("%s remote %s, imported by %s (`%s`)", sep, p.Remote, p.Module, o.source(p.Source))
						continue
					}
					ew.printf("%s %s (`%s`)", sep, p.Module, o.source(p.Source))
				}
				ew.printf(".\n")
			}
			if len(t.Listeners) > 0 {
				ew.printf("\n| # | Listener | Rank | Module | Source |\n|---|---|---|---|---|\n")
				for i, l := range t.Listeners {
					ew.printf("| %d | `%s` | %d | %s | `%s` |\n", i+1, l.Name, l.Rank, owner(l), o.source(l.Source))
				}
			}
		}
	}
	return ew.err
}

// Listeners writes the dispatch table of every topic, or of the one named
// topic when it is not "", like Symfony's debug:event-dispatcher. It fails
// when topic names no topic of the catalogue.
func Listeners(w io.Writer, c bus.Catalog, topic string, o Options) error {
	found := false
	ew := &errWriter{w: w}
	for _, t := range c.Topics {
		if topic != "" && t.Name != topic {
			continue
		}
		if found {
			ew.printf("\n")
		}
		found = true
		title := fmt.Sprintf("%q topic (%s, %s)", t.Name, t.ErrorPolicy, t.Requirement)
		ew.printf("%s\n%s\n", title, strings.Repeat("-", len(title)))
		if len(t.Listeners) == 0 {
			ew.printf("  no listeners\n")
			continue
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  ORDER\tLISTENER\tRANK\tMODULE\tSOURCE\n")
		for i, l := range t.Listeners {
			fmt.Fprintf(tw, "  #%d\t%s\t%d\t%s\t%s\n", i+1, l.Name, l.Rank, owner(l), o.source(l.Source))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if ew.err != nil {
		return ew.err
	}
	if !found && topic != "" {
		return fmt.Errorf("busdoc: no topic %q", topic)
	}
	return nil
}

// owner is who contributed a listener: its plugin, or its module; for a
// listener that forwards events out of the process, also where to.
func owner(l bus.ListenerInfo) string {
	switch {
	case l.Remote != "":
		return cmpOr(l.Module, "-") + " → " + l.Remote
	case l.Plugin != "":
		return "plugin " + l.Plugin
	case l.Module != "":
		return l.Module
	}
	return "-"
}

type area struct {
	name   string
	topics []bus.TopicInfo
}

// groupByArea groups topics by area, in order of first appearance (the
// catalogue is sorted by name, so areas come sorted too).
func groupByArea(c bus.Catalog) []area {
	var out []area
	for _, t := range c.Topics {
		a := Area(t.Name)
		if len(out) == 0 || out[len(out)-1].name != a {
			out = append(out, area{name: a})
		}
		out[len(out)-1].topics = append(out[len(out)-1].topics, t)
	}
	return out
}

func anchor(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "-")) }

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) {
	fmt.Fprintf(e, format, args...)
}

// AddFieldDocs returns c with the documentation of its payloads' fields
// filled in from docs, keyed by the payload's Go type
// ("topics.MessagePosting", as [bus.TopicInfo.Payload] says) and then by
// field name; c itself is left alone. Reflection cannot read comments:
// generate docs from the source (the reference app's topics package does,
// with go generate).
func AddFieldDocs(c bus.Catalog, docs map[string]map[string]string) bus.Catalog {
	out := bus.Catalog{Topics: slices.Clone(c.Topics)}
	for i := range out.Topics {
		t := &out.Topics[i]
		fd := docs[t.Payload]
		if fd == nil {
			continue
		}
		t.Fields = slices.Clone(t.Fields)
		for j := range t.Fields {
			if d, ok := fd[t.Fields[j].Name]; ok {
				t.Fields[j].Doc = d
			}
		}
	}
	return out
}
