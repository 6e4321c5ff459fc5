package busdebug

import (
	"cmp"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/busdoc"
)

// catalogView is the catalogue page's data.
type catalogView struct {
	Areas   []areaView
	Topics  int
	Edge    []edgeView // what crosses the process's edge
	Orphans []string   // topics nobody hears
	Total   int        // listeners
	Dynamic int        // runtime subscriptions
	HasPubs bool
	Modules int
}

type areaView struct {
	Name   string
	ID     string
	Topics []topicView
}

type topicView struct {
	bus.TopicInfo
	ID        string
	Area      string
	Owners    []string // per listener, its module or plugin
	Sources   []string // per listener, its short source
	PubSource []string // per publisher, its short source
}

type edgeView struct {
	Topic, Direction, Remote, Via string
}

// catalog returns the bus's catalogue as the page shows it: with the
// field docs and the extra topics of the options.
func (h *Handler) catalog() bus.Catalog {
	c := h.b.Catalog()
	for _, t := range h.cfg.topics {
		if !slices.ContainsFunc(c.Topics, func(ti bus.TopicInfo) bool { return ti.Name == t.Name() }) {
			ti := t.Info()
			ti.Listeners = []bus.ListenerInfo{}
			c.Topics = append(c.Topics, ti)
		}
	}
	slices.SortStableFunc(c.Topics, func(a, b bus.TopicInfo) int { return cmp.Compare(a.Name, b.Name) })
	if h.cfg.fieldDocs != nil {
		c = busdoc.AddFieldDocs(c, h.cfg.fieldDocs)
	}
	return c
}

func (h *Handler) catalogPage(w http.ResponseWriter, r *http.Request) {
	c := h.catalog()
	v := catalogView{Topics: len(c.Topics)}
	mods := map[string]bool{}
	for _, t := range c.Topics {
		tv := topicView{TopicInfo: t, ID: "topic-" + anchor(t.Name), Area: area(t.Name)}
		heard := false
		for _, l := range t.Listeners {
			tv.Owners = append(tv.Owners, owner(l))
			tv.Sources = append(tv.Sources, shortSource(l.Source))
			v.Total++
			if l.Subscribed {
				v.Dynamic++
			}
			if l.Remote != "" {
				v.Edge = append(v.Edge, edgeView{Topic: t.Name, Direction: "exported", Remote: l.Remote, Via: l.Name})
			} else {
				heard = true
				mods[owner(l)] = true
			}
		}
		for _, p := range t.Publishers {
			tv.PubSource = append(tv.PubSource, shortSource(p.Source))
			v.HasPubs = true
			if p.Remote != "" {
				v.Edge = append(v.Edge, edgeView{Topic: t.Name, Direction: "imported", Remote: p.Remote, Via: p.Module})
			} else {
				mods[p.Module] = true
			}
		}
		if !heard {
			v.Orphans = append(v.Orphans, t.Name)
		}
		if n := len(v.Areas); n == 0 || v.Areas[n-1].Name != tv.Area {
			v.Areas = append(v.Areas, areaView{Name: tv.Area, ID: "area-" + anchor(tv.Area)})
		}
		a := &v.Areas[len(v.Areas)-1]
		a.Topics = append(a.Topics, tv)
	}
	v.Modules = len(mods)
	h.render(w, "catalog.html", h.page("catalog", "Catalogue", v))
}

// area is the part of a topic's name before its first dot, as busdoc
// groups topics.
func area(topic string) string {
	a, _, _ := strings.Cut(topic, ".")
	return a
}

// anchor makes an HTML id of s.
func anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// owner is who contributed a listener: its plugin or its module.
func owner(l bus.ListenerInfo) string {
	switch {
	case l.Plugin != "":
		return "plugin " + l.Plugin
	case l.Module != "":
		return l.Module
	}
	return "(undeclared)"
}

// shortSource is a source as "dir/file.go:line": enough to find it, without
// the machine's paths.
func shortSource(s bus.Source) string {
	if s.File == "" {
		return ""
	}
	dir, file := filepath.Split(filepath.ToSlash(s.File))
	dir = filepath.Base(strings.TrimSuffix(dir, "/"))
	if dir == "." || dir == "/" || dir == "" {
		return file + ":" + strconv.Itoa(s.Line)
	}
	return dir + "/" + file + ":" + strconv.Itoa(s.Line)
}
