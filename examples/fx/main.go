package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"go.uber.org/fx"

	"github.com/fxbus/fxbus/bus"
)

// The topics: declared once, by the package that owns the events.
type (
	SignedUp  struct{ Email string }
	EmailSent struct{ To, Subject string }
)

var (
	UserSignedUp  = bus.NewTopic[SignedUp]("user.signed_up")
	MailEmailSent = bus.NewTopic[EmailSent]("mail.email_sent")
)

// Outbox sends mail; here it prints. The mailer depends on it.
type Outbox struct{ w io.Writer }

func NewOutbox(w io.Writer) *Outbox { return &Outbox{w: w} }

func (o *Outbox) Send(to, subject string) { fmt.Fprintf(o.w, "  outbox: %q to %s\n", subject, to) }

// Mailer is a service: it sends mail and says so on the bus. It takes the
// *bus.Bus from the container, like any service that publishes.
type Mailer struct {
	outbox *Outbox
	bus    *bus.Bus
}

func NewMailer(o *Outbox, b *bus.Bus) *Mailer { return &Mailer{outbox: o, bus: b} }

// Send sends a mail and publishes MailEmailSent.
func (m *Mailer) Send(ctx context.Context, to, subject string) error {
	m.outbox.Send(to, subject)
	return MailEmailSent.Publish(ctx, m.bus, &EmailSent{To: to, Subject: subject})
}

// NewSendWelcome is a listener constructor: fx gives it the Mailer, which
// publishes the follow-up event through the bus this listener belongs to.
func NewSendWelcome(m *Mailer) func(context.Context, *SignedUp) error {
	return func(ctx context.Context, e *SignedUp) error {
		return m.Send(ctx, e.Email, "Welcome!")
	}
}

// MailerModule sends a welcome mail to new users, and says so on the bus.
var MailerModule = fx.Module("mailer",
	fx.Provide(NewMailer),
	bus.Publishes(MailEmailSent),
	bus.Listen(UserSignedUp, NewSendWelcome),
)

// NewAuditSignup and NewAuditMail are listener constructors too: their
// only dependency is where to write.
func NewAuditSignup(w io.Writer) func(context.Context, *SignedUp) error {
	return func(_ context.Context, e *SignedUp) error {
		fmt.Fprintf(w, "  audit: %s signed up\n", e.Email)
		return nil
	}
}

func NewAuditMail(w io.Writer) func(context.Context, *EmailSent) error {
	return func(_ context.Context, e *EmailSent) error {
		fmt.Fprintf(w, "  audit: mailed %s\n", e.To)
		return nil
	}
}

// AuditModule records both events. Rank -10 runs its sign-up listener
// before the mailer's, whatever the order in which fx builds listeners.
var AuditModule = fx.Module("audit",
	bus.Listen(UserSignedUp, NewAuditSignup, bus.Rank(-10)),
	bus.Listen(MailEmailSent, NewAuditMail),
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	ctx := context.Background()
	common := fx.Options(
		fx.NopLogger, // keep fx's own log out of the example's output
		fx.Supply(fx.Annotate(w, fx.As(new(io.Writer)))),
		MailerModule,
		AuditModule,
		bus.Module, // the *bus.Bus, with every module's listeners installed at fx.New
		// This program publishes UserSignedUp itself: saying so puts it in
		// the bus's catalogue and graph.
		bus.Publishes(UserSignedUp),
	)

	var b *bus.Bus
	app := fx.New(common, fx.Provide(NewOutbox), fx.Populate(&b))
	if err := app.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintln(w, "ann@example.com signs up:")
	err := UserSignedUp.Publish(ctx, b, &SignedUp{Email: "ann@example.com"})
	if err := errors.Join(err, app.Stop(ctx)); err != nil { // Stop closes the bus
		return err
	}

	// The same app without fx.Provide(NewOutbox): fx.New fails. Its error
	// walks the chain from bus.Module down to the constructor that needs
	// the Outbox, each link with its file:line; the last link says it all.
	if err = fx.New(common).Err(); err == nil {
		return errors.New("fx.New succeeded without an Outbox")
	}
	fmt.Fprintf(w, "without an Outbox, fx.New fails:\n  ... %s\n", lastLink(err))
	return nil
}

// lastLink returns the end of an fx error from its last "missing
// dependencies", with this directory trimmed to print the same everywhere.
func lastLink(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "missing dependencies"); i >= 0 {
		msg = msg[i:]
	}
	_, here, _, _ := runtime.Caller(0)
	return strings.ReplaceAll(msg, filepath.Dir(here)+string(filepath.Separator), "")
}
