package bridge

import "encoding/json"

// Codec encodes payloads for the wire. Implementations must be safe for
// concurrent use.
type Codec interface {
	// ContentType names the encoding, sent in the Content-Type header.
	ContentType() string
	// Marshal encodes v, a pointer to a payload.
	Marshal(v any) ([]byte, error)
	// Unmarshal decodes data into v, a pointer to a zero payload.
	Unmarshal(data []byte, v any) error
}

// JSON is the default [Codec]: encoding/json, with the payload's own json
// tags.
var JSON Codec = jsonCodec{}

type jsonCodec struct{}

func (jsonCodec) ContentType() string                { return "application/json" }
func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
