package actions

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// Errors returned when decoding actions.
var (
	// ErrUnknownType is returned when an action's type was never defined.
	ErrUnknownType = errors.New("actions: unknown action type")
	// ErrInvalid is returned for malformed action JSON.
	ErrInvalid = errors.New("actions: invalid action")
)

// Meta is the metadata a store attaches to an action.
type Meta struct {
	// Time is when the store accepted the action. The store stamps it when
	// it is zero; reducers read time only from here.
	Time time.Time `json:"time,omitzero"`
	// Source names who dispatched the action: "epic/heartbeat",
	// "puppet/bot-1", "devtools", or empty for the application.
	Source string `json:"source,omitempty"`
	// Seq is the position of the action in its store's dispatch order,
	// starting at 1. The store sets it.
	Seq uint64 `json:"seq,omitempty"`
	// Node and Token are set on an action that arrived from another
	// process's feed (package cluster): the node that published it and its
	// fencing token for the bot the action is about. They are empty on
	// an action made in this process.
	Node  string `json:"node,omitempty"`
	Token uint64 `json:"token,omitempty"`
}

// Action is one event or decision. It is a value: copying it is cheap and
// the payload must be treated as immutable once dispatched.
type Action struct {
	Type    string
	Payload any
	Meta    Meta
}

// WithSource returns a copy of a with Meta.Source set.
func (a Action) WithSource(source string) Action {
	a.Meta.Source = source
	return a
}

// String renders the action type and payload for logs.
func (a Action) String() string {
	if a.Payload == nil {
		return a.Type
	}
	if _, empty := a.Payload.(struct{}); empty {
		return a.Type
	}
	return fmt.Sprintf("%s %+v", a.Type, a.Payload)
}

// Creator builds and matches actions of one type with a payload of type P.
// Use struct{} for actions without a payload.
type Creator[P any] struct {
	typ string
}

// Define registers an action type with payload type P and returns its
// creator. It panics if typ is empty or already defined.
func Define[P any](typ string) Creator[P] {
	if typ == "" {
		panic("actions: Define with an empty type")
	}
	register(typ, kind{
		decode: func(raw json.RawMessage) (any, error) {
			var p P
			if len(raw) == 0 || string(raw) == "null" {
				return p, nil
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				return nil, err
			}
			return p, nil
		},
	})
	return Creator[P]{typ: typ}
}

// Type returns the action type string.
func (c Creator[P]) Type() string { return c.typ }

// New builds an action carrying p.
func (c Creator[P]) New(p P) Action {
	return Action{Type: c.typ, Payload: p}
}

// Match reports whether a has this creator's type and returns its payload.
// It costs a string comparison and a type assertion, no reflection. What
// New makes, Match takes back: a nil payload of an interface type P (New
// of a nil error, a nil any) is P's zero value, not a mismatch.
func (c Creator[P]) Match(a Action) (P, bool) {
	if a.Type != c.typ {
		var zero P
		return zero, false
	}
	p, ok := a.Payload.(P)
	if !ok && a.Payload == nil {
		ok = reflect.TypeFor[P]().Kind() == reflect.Interface
	}
	return p, ok
}

// Is reports whether a has this creator's type.
func (c Creator[P]) Is(a Action) bool { return a.Type == c.typ }

type kind struct {
	decode func(json.RawMessage) (any, error)
}

var registry sync.Map // type string → kind

func register(typ string, k kind) {
	if _, loaded := registry.LoadOrStore(typ, k); loaded {
		panic(fmt.Sprintf("actions: type %q defined twice", typ))
	}
}

// Known reports whether typ has been defined.
func Known(typ string) bool {
	_, ok := registry.Load(typ)
	return ok
}

// Types returns every defined action type, unordered.
func Types() []string {
	var out []string
	registry.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	return out
}

type wire struct {
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Meta    *Meta           `json:"meta,omitempty"`
}

// MarshalJSON encodes the action as {"type":…,"payload":…,"meta":…}.
func (a Action) MarshalJSON() ([]byte, error) {
	w := wire{Type: a.Type}
	if a.Payload != nil {
		if _, empty := a.Payload.(struct{}); !empty {
			raw, err := json.Marshal(a.Payload)
			if err != nil {
				return nil, fmt.Errorf("actions: marshal %q payload: %w", a.Type, err)
			}
			w.Payload = raw
		}
	}
	if a.Meta != (Meta{}) {
		m := a.Meta
		w.Meta = &m
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes an action produced by MarshalJSON. The type must
// have been defined; the payload is decoded into the defined payload type.
func (a *Action) UnmarshalJSON(data []byte) error {
	var w wire
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if w.Type == "" {
		return fmt.Errorf("%w: missing \"type\"", ErrInvalid)
	}
	v, ok := registry.Load(w.Type)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownType, w.Type)
	}
	p, err := v.(kind).decode(w.Payload)
	if err != nil {
		return fmt.Errorf("%w: payload of %q: %w", ErrInvalid, w.Type, err)
	}
	*a = Action{Type: w.Type, Payload: p}
	if w.Meta != nil {
		a.Meta = *w.Meta
	}
	return nil
}

// Decode builds an action of a defined type from a type string and a raw
// JSON payload, as received from a monitor or a file.
func Decode(typ string, payload json.RawMessage) (Action, error) {
	v, ok := registry.Load(typ)
	if !ok {
		return Action{}, fmt.Errorf("%w %q", ErrUnknownType, typ)
	}
	p, err := v.(kind).decode(payload)
	if err != nil {
		return Action{}, fmt.Errorf("%w: payload of %q: %w", ErrInvalid, typ, err)
	}
	return Action{Type: typ, Payload: p}, nil
}
