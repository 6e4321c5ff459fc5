package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/fxbus/fxbus/bus"
	"github.com/fxbus/fxbus/bus/plugin"
	"github.com/fxbus/fxbus/bus/rules"
)

// The chat widget's service publishes its lifecycle as topics.
type (
	ChatMessage struct{ From, Text string } // From: "customer", "agent" or "system"
	ChatEnded   struct{ Reason string }
)

var (
	MessageReceived = bus.NewTopic[ChatMessage]("WebChatService.messageReceived")
	Ended           = bus.NewTopic[ChatEnded]("WebChatService.ended")
)

// from is a typed predicate on the payload, for the rules below.
func from(who string) func(*ChatMessage) bool {
	return func(m *ChatMessage) bool { return m.From == who }
}

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	b, err := bus.New(nil) // no static listeners: plugins come and go at run time
	if err != nil {
		return err
	}
	defer b.Close()

	// Transcript keeps what customers say and the end of the chat: an
	// include set passes only what one of its rules matches.
	transcriptRules, err := rules.New("transcript", rules.Include,
		rules.Match("customer", MessageReceived, from("customer")),
		rules.Match("end", Ended))
	if err != nil {
		return err
	}
	transcript, err := plugin.Register(b, "Transcript")
	if err != nil {
		return err
	}
	_, err1 := MessageReceived.Subscribe(b, func(_ context.Context, m *ChatMessage) error {
		fmt.Fprintf(w, "  transcript: %s said %q\n", m.From, m.Text)
		return nil
	}, bus.Name("onMessage"), rules.When(transcriptRules, MessageReceived), bus.OwnedBy(transcript))
	_, err2 := Ended.Subscribe(b, func(_ context.Context, e *ChatEnded) error {
		fmt.Fprintf(w, "  transcript: chat ended (%s)\n", e.Reason)
		return nil
	}, bus.Name("onEnded"), rules.When(transcriptRules, Ended), bus.OwnedBy(transcript))

	// Analytics counts every message but the system's: an exclude set
	// passes what none of its rules matches.
	analyticsRules, err3 := rules.New("analytics", rules.Exclude, rules.Match("system", MessageReceived, from("system")))
	analytics, err4 := plugin.Register(b, "Analytics")
	count := 0
	_, err5 := MessageReceived.Subscribe(b, func(_ context.Context, m *ChatMessage) error {
		count++
		fmt.Fprintf(w, "  analytics: #%d from %s\n", count, m.From)
		return nil
	}, bus.Name("count"), rules.When(analyticsRules, MessageReceived), bus.OwnedBy(analytics))
	if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
		return err
	}

	ctx := context.Background()
	chat := func(from, text string) error {
		return MessageReceived.Publish(ctx, b, &ChatMessage{From: from, Text: text})
	}
	// The transcript drops the agent's line, analytics the system's.
	fmt.Fprintln(w, "a chat:")
	err = errors.Join(chat("customer", "my order is late"), chat("agent", "let me check"), chat("system", "agent is typing"))

	// Rules change by id while the bus runs, from the next publish on. With
	// "end" gone, no rule names Ended: the include set now blocks it.
	fmt.Fprintln(w, `replace the rule "customer" to keep every message; remove "end":`)
	err = errors.Join(err, transcriptRules.Put(rules.Match("customer", MessageReceived)), transcriptRules.Remove("end"))
	err = errors.Join(err, chat("agent", "it ships today"), Ended.Publish(ctx, b, &ChatEnded{Reason: "agent closed"}))

	// Unregistering removes every handler the plugin subscribed, at once.
	var names []string
	for _, l := range transcript.Listeners() {
		names = append(names, l.Name) // "<plugin>/<listener>"
	}
	fmt.Fprintf(w, "unregister Transcript, which subscribed %s:\n", strings.Join(names, " and "))
	err = errors.Join(err, transcript.Unregister(), chat("customer", "thanks!"))
	fmt.Fprintf(w, "Transcript has %d listeners left\n", len(transcript.Listeners()))
	return err
}
