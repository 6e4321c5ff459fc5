package moderation_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fxbus/fxbus/modules/moderation"
)

// FuzzCensor proves, for any list of words (comma-separated in the first
// argument, "" for the defaults) and any message body, valid UTF-8 or not,
// that:
//
//   - NewFilter accepts the list exactly when each word is a non-empty run
//     of letters, digits and underscores;
//   - Censor never panics, and its result is what an independent model of
//     the documentation gives: the body split into maximal runs of letters,
//     digits and underscores (any other rune, and any byte that is not valid
//     UTF-8, separates words and is kept as it is), each run that equals a
//     listed word regardless of case (rune by rune, strings.EqualFold or
//     equal once lower-cased) replaced by one '*' per rune, the count being
//     the number of runs replaced;
//   - hence the output has as many runes as the input; every byte outside
//     a replaced word is unchanged; no listed word remains as a whole word;
//   - censoring is idempotent: the output censors to itself, with a count
//     of 0;
//   - every listed word is censored in any of its case variants: the third
//     argument picks, for each rune of the word, how many steps to take
//     along its orbit of unicode.SimpleFold ("s", "S", "ſ"; "σ", "Σ", "ς"),
//     so the fuzzer explores the variants that strings.EqualFold equates.
func FuzzCensor(f *testing.F) {
	for _, seed := range []struct{ words, body string }{
		{"", "well, darn"},
		{"", "Darn! HECK? heck."},
		{"", "darned heckle darn_it undarn"},
		{"", "héck darn—darn"},
		{"", ""},
		{"darn,heck,blast", "BLAST it, darn\theck\nheck_ blast9 9blast"},
		{"Blast,мерзость", "darn, blast! Мерзость"},
		{"σκατά,μαλάκας", "Σκατά! ΜΑΛΆΚΑΣ, μαλάκας."}, // a final sigma folds to Σ
		{"scheiße,straße", "SCHEIẞE Straße strasse"},
		{"kelvin,blast", "KELVIN \u212aelvin blaſt"},
		{"i", "İ I ı"},
		{"iſ", "İs İS ıs"}, // İ is i lower-cased, ſ is s folded: both at once
		{"darn", "\xffdarn\xfe\xe2\x82darn\xe2\x82\xac darn\xc3"},
		{"darn", "darn\u0301 d\u0301arn"}, // combining marks are not letters
		{"x_1,٣", "X_1 ٣ x_1x ٣٣"},
		{"two words", "two words"},
		{"f@#k,", "f@#k"},
		{"\xff", "\xff"},
	} {
		f.Add(seed.words, seed.body, uint64(0))
	}
	f.Add("darn,heck", "", uint64(0b1001_0101))
	f.Fuzz(func(t *testing.T, wordList, body string, fold uint64) {
		var words []string
		if wordList != "" {
			words = strings.Split(wordList, ",")
		}
		fl, err := moderation.NewFilter(moderation.Params{Config: moderation.Config{Words: words}})
		if !allWords(words) {
			require.Error(t, err, "words %q", words)
			require.ErrorContains(t, err, "Config.Words")
			return
		}
		require.NoError(t, err, "words %q", words)
		if len(words) == 0 {
			words = moderation.DefaultWords()
		}

		got, n := fl.Censor(body)
		want, wantN := censorModel(words, body)
		require.Equal(t, want, got, "Censor(%q) with %q", body, words)
		require.Equal(t, wantN, n, "count of Censor(%q) with %q", body, words)

		// The same, as properties: what a caller may rely on.
		assert.Equal(t, utf8.RuneCountInString(body), utf8.RuneCountInString(got), "runes")
		for _, w := range splitWords(got) {
			assert.False(t, banned(words, w.text), "%q remains a whole word in %q", w.text, got)
		}
		if n == 0 {
			assert.Equal(t, body, got, "nothing replaced, nothing changed")
		}
		again, n2 := fl.Censor(got)
		assert.Equal(t, got, again, "idempotent")
		assert.Zero(t, n2, "idempotent")

		for _, w := range words {
			v := caseVariant(w, fold)
			got, n := fl.Censor(v)
			assert.Equal(t, strings.Repeat("*", utf8.RuneCountInString(v)), got, "%q, a case variant of %q", v, w)
			assert.Equal(t, 1, n, "%q, a case variant of %q", v, w)
		}
	})
}

// allWords reports whether NewFilter should accept words: each one
// non-empty, valid UTF-8, and only letters, digits and underscores.
func allWords(words []string) bool {
	for _, w := range words {
		if w == "" || !utf8.ValidString(w) {
			return false
		}
		for _, r := range w {
			if !wordRune(r) {
				return false
			}
		}
	}
	return true
}

func wordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// banned reports whether w is one of words regardless of case: rune by
// rune, equal under simple case folding (strings.EqualFold) or once
// lower-cased ("İ" lower-cases to "i", though it folds to nothing else).
func banned(words []string, w string) bool {
	rw := []rune(w)
	for _, b := range words {
		if rb := []rune(b); len(rb) == len(rw) && sameRunes(rw, rb) {
			return true
		}
	}
	return false
}

func sameRunes(a, b []rune) bool {
	for i := range a {
		if !strings.EqualFold(string(a[i]), string(b[i])) && unicode.ToLower(a[i]) != unicode.ToLower(b[i]) {
			return false
		}
	}
	return true
}

type span struct {
	start, end int // byte offsets
	text       string
}

// splitWords returns the maximal runs of word runes of s. Ranging over a
// string decodes a byte that is not valid UTF-8 as utf8.RuneError, which
// is not a word rune.
func splitWords(s string) []span {
	var out []span
	start := -1
	for i, r := range s {
		switch {
		case wordRune(r) && start < 0:
			start = i
		case !wordRune(r) && start >= 0:
			out = append(out, span{start, i, s[start:i]})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, span{start, len(s), s[start:]})
	}
	return out
}

// censorModel is the documented behaviour of Censor, written
// independently of it.
func censorModel(words []string, s string) (string, int) {
	var b strings.Builder
	last, n := 0, 0
	for _, w := range splitWords(s) {
		if !banned(words, w.text) {
			continue
		}
		b.WriteString(s[last:w.start])
		b.WriteString(strings.Repeat("*", utf8.RuneCountInString(w.text)))
		last = w.end
		n++
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// caseVariant returns w with each rune moved along its orbit of
// unicode.SimpleFold by the next two bits of fold: a string that
// strings.EqualFold says equals w.
func caseVariant(w string, fold uint64) string {
	var b strings.Builder
	for i, r := range []rune(w) {
		for range (fold >> (2 * (i % 32))) & 3 {
			r = unicode.SimpleFold(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
