package shop

// Order is a customer's order.
type Order struct {
	// ID identifies the order.
	ID    string
	Lines []Line // Lines are what was ordered.

	// note is unexported and stays out.
	note         string
	Total, Tax   int // Total and Tax are in cents.
	Undocumented bool
}

// Line is one line of an [Order].
type Line struct {
	// SKU names the product,
	// on two lines.
	SKU string
}

type hidden struct {
	// X is in an unexported type.
	X int
}
