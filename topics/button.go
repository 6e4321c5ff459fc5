package topics

import "github.com/fxbus/fxbus/bus"

// Button events: the chat button that site owners paste into their pages.

// ButtonGenerated fires after the markup of a chat button has been generated
// and before it is shown to the operator who asked for it (Mibew
// BUTTON_GENERATE). Listeners may change [ButtonGeneration.Markup].
var ButtonGenerated = bus.NewTopic[ButtonGeneration]("button.generated",
	bus.Description("The markup of a chat button has been generated; listeners may change it."))

// ButtonKind is the kind of chat button a [ButtonGenerator] makes.
type ButtonKind string

const (
	// ButtonKindImage is a button showing an image that changes with the desk's availability.
	ButtonKindImage ButtonKind = "image"
	// ButtonKindText is a plain text link.
	ButtonKindText ButtonKind = "text"
	// ButtonKindOperatorCode is a form where the visitor types an operator's code.
	ButtonKindOperatorCode ButtonKind = "operator_code"
)

// ButtonGenerator is the generator that made a chat button, and the choices
// it was given.
type ButtonGenerator struct {
	// Kind is the kind of button made.
	Kind ButtonKind
	// Locale is the language of the chat the button opens, such as "en".
	Locale string
	// GroupID is the group the button asks for; zero for any.
	GroupID GroupID
	// Title is the title of the chat window.
	Title string
	// ForceSecure is set when the button must open the chat over HTTPS.
	ForceSecure bool
}

// ButtonGeneration is the payload of [ButtonGenerated].
type ButtonGeneration struct {
	// Generator is the generator used and its options.
	Generator ButtonGenerator
	// Markup is the HTML of the button. Listeners may change it; the
	// operator gets the markup as the last listener left it.
	Markup string
}
