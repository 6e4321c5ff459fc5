package moderation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/topics"
)

// Rank is the rank of the module's listener on
// [topics.ThreadMessagePosting]: before the listeners at the default rank,
// which then see the message as it will be stored.
const Rank = -10

// By is what the module puts in [topics.BanRequest.By].
const By = "moderation"

// DefaultBanAfter is the strike at which a visitor is banned when
// [Config.BanAfter] is not set.
const DefaultBanAfter = 2

// DefaultWords returns the words that are abusive when [Config.Words] is
// not set: "darn" and "heck".
func DefaultWords() []string { return []string{"darn", "heck"} }

// Config configures the module. The container may supply one; without it,
// the defaults apply.
type Config struct {
	// Words are the abusive words, each one word of letters, digits or
	// underscores; case does not matter. Empty means [DefaultWords].
	Words []string
	// BanAfter is the number of abusive messages from one visitor at which
	// the module asks to ban them. Zero means [DefaultBanAfter]; a negative
	// number means never.
	BanAfter int
}

// Params are the dependencies of [NewFilter] and [NewStrikes].
type Params struct {
	fx.In

	// Config is optional.
	Config Config `optional:"true"`
}

// Module rewrites abusive words in messages about to be posted, and asks
// to ban visitors after repeated abuse; see the package documentation. It
// provides the [*Filter] and the [*Strikes] it uses.
var Module = fx.Module("moderation",
	fx.Provide(NewFilter, NewStrikes),
	bus.Publishes(topics.ModerationBanRequested),
	bus.Listen(topics.ThreadMessagePosting, NewModerate, bus.Rank(Rank)),
)

// Filter finds and masks abusive words. It is immutable, so safe for use
// by any number of goroutines.
type Filter struct {
	words map[string]bool // by fold
}

// NewFilter returns the filter of p's Config. It fails for a word that is
// empty or not a single word.
func NewFilter(p Params) (*Filter, error) {
	words := p.Config.Words
	if len(words) == 0 {
		words = DefaultWords()
	}
	f := &Filter{words: make(map[string]bool, len(words))}
	for _, w := range words {
		if w == "" || strings.IndexFunc(w, isBoundary) >= 0 {
			return nil, fmt.Errorf("moderation: Config.Words: %q is not a word of letters, digits or underscores", w)
		}
		f.words[fold(w)] = true
	}
	return f, nil
}

// isBoundary reports whether r separates words.
func isBoundary(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
}

// fold returns the key of a word in Filter.words, the same for the words
// that are equal regardless of case: those equal once lower-cased, and
// those that strings.EqualFold equates, which lower-casing alone misses
// ("ſ" and "s", "ς" and "Σ"). Each rune is lower-cased, then replaced by
// the lower case of the least rune of its unicode.SimpleFold orbit.
func fold(w string) string {
	return strings.Map(func(r rune) rune {
		r = unicode.ToLower(r)
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return unicode.ToLower(least)
	}, w)
}

// Censor returns s with every abusive word replaced by as many asterisks
// as it has characters, and how many words it replaced.
func (f *Filter) Censor(s string) (string, int) {
	var b strings.Builder
	n, last := 0, 0 // last: the end of what is copied to b
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if isBoundary(r) {
			i += size
			continue
		}
		j := i + size
		for j < len(s) {
			r, size := utf8.DecodeRuneInString(s[j:])
			if isBoundary(r) {
				break
			}
			j += size
		}
		if f.words[fold(s[i:j])] {
			if n == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(strings.Repeat("*", utf8.RuneCountInString(s[i:j])))
			last = j
			n++
		}
		i = j
	}
	if n == 0 {
		return s, 0
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// Strikes counts abusive messages per visitor, until a ban. It is safe
// for use by any number of goroutines.
type Strikes struct {
	after int // the strike that bans; 0: never

	mu sync.Mutex
	n  map[topics.UserID]int
}

// NewStrikes returns an empty count, banning at the strike that p's Config
// sets.
func NewStrikes(p Params) *Strikes {
	after := p.Config.BanAfter
	switch {
	case after == 0:
		after = DefaultBanAfter
	case after < 0:
		after = 0
	}
	return &Strikes{after: after, n: map[topics.UserID]int{}}
}

// Of returns the visitor's strikes since their last ban request.
func (s *Strikes) Of(u topics.UserID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n[u]
}

// add counts a strike against u. When it reaches the ban, it returns the
// count, which the caller now owns and must give back with restore if the
// ban fails; otherwise it returns 0.
func (s *Strikes) add(u topics.UserID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[u]++
	n := s.n[u]
	if s.after == 0 || n < s.after {
		return 0
	}
	delete(s.n, u)
	return n
}

// restore gives back n strikes taken by add.
func (s *Strikes) restore(u topics.UserID, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n[u] += n
}

// NewModerate returns the module's listener on
// [topics.ThreadMessagePosting]: it censors the body with f, counts a
// strike in s for an abusive visitor message, and publishes the ban
// request on b when the visitor has had enough.
func NewModerate(f *Filter, s *Strikes, b *bus.Bus) func(context.Context, *topics.MessagePosting) error {
	return func(ctx context.Context, m *topics.MessagePosting) error {
		body, n := f.Censor(m.Body)
		if n == 0 {
			return nil
		}
		m.Body = body
		if m.Kind != topics.MessageKindUser || m.Thread == nil || m.Thread.UserID == "" {
			return nil
		}
		u := m.Thread.UserID
		strikes := s.add(u)
		if strikes == 0 {
			return nil
		}
		err := topics.ModerationBanRequested.Publish(ctx, b, &topics.BanRequest{
			UserID:  u,
			Address: m.Thread.Remote,
			Reason:  fmt.Sprintf("%d abusive messages", strikes),
			By:      By,
		})
		if err != nil {
			s.restore(u, strikes)
			return fmt.Errorf("moderation: ban visitor %q: %w", u, err)
		}
		return nil
	}
}
