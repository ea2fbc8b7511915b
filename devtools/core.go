package devtools

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

// ErrRefused is returned (and logged) for monitor commands that the
// options do not allow.
var ErrRefused = errors.New("devtools: command refused")

// Stats counts what a Client or an Endpoint did.
type Stats struct {
	Connected  bool   // client: a relay session is up
	Sessions   uint64 // client: relay sessions opened; endpoint: monitors accepted
	Sent       uint64 // messages sent
	Dropped    uint64 // store changes dropped because the network was slow
	Refused    uint64 // monitor commands refused by the options
	BadFrames  uint64 // frames ignored or that closed a connection
	Jumps      uint64 // time-travel commands applied
	Dispatched uint64 // actions dispatched from a monitor
}

// core is the app side of the protocol, shared by the client and the
// embedded endpoint: it builds app messages and obeys monitor commands.
type core[S any] struct {
	st  *store.Store[S]
	cfg config

	mu        sync.Mutex
	initial   S
	committed S
	nextID    int

	sent, refused, bad, jumps, dispatched atomic.Uint64
}

func newCore[S any](st *store.Store[S], cfg config) *core[S] {
	s := st.State()
	return &core[S]{st: st, cfg: cfg, initial: s, committed: s}
}

func (c *core[S]) encode(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("devtools: encode: %w", err)
	}
	if b, err = c.cfg.redact(b); err != nil {
		return "", fmt.Errorf("devtools: redact: %w", err)
	}
	return string(b), nil
}

// startMessage announces the app.
func (c *core[S]) startMessage(socketID string) message {
	return message{Type: "START", ID: socketID, InstanceID: c.cfg.instanceID, Name: c.cfg.name}
}

// initMessage carries the current state; monitors start from it.
func (c *core[S]) initMessage(socketID string) (message, error) {
	payload, err := c.encode(c.st.State())
	if err != nil {
		return message{}, err
	}
	return message{
		Type: "INIT", ID: socketID, InstanceID: c.cfg.instanceID, Name: c.cfg.name,
		Payload: &payload, MaxAge: c.cfg.maxAge,
		LibConfig: &libConfig{Name: c.cfg.name, Features: map[string]bool{
			"jump": c.cfg.timeTravel, "skip": false, "reorder": false, "dispatch": c.cfg.remoteDispatch,
			"import": false, "export": true, "lock": false, "pause": false, "persist": false, "test": false,
		}},
	}, nil
}

// actionMessage carries one store change.
func (c *core[S]) actionMessage(socketID string, ch store.Change[S]) (message, error) {
	payload, err := c.encode(ch.State)
	if err != nil {
		return message{}, err
	}
	act, err := c.encode(ch.Action)
	if err != nil {
		return message{}, err
	}
	lifted, err := json.Marshal(performAction{Action: json.RawMessage(act), Timestamp: ch.Action.Meta.Time.UnixMilli(), Type: "PERFORM_ACTION"})
	if err != nil {
		return message{}, err
	}
	liftedStr, _ := json.Marshal(string(lifted))
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.mu.Unlock()
	return message{
		Type: "ACTION", ID: socketID, InstanceID: c.cfg.instanceID, Name: c.cfg.name,
		Payload: &payload, Action: liftedStr, NextActionID: id + 1, MaxAge: c.cfg.maxAge,
	}, nil
}

// command is what a monitor asked; handle returns what to send back.
type reply struct{ resendInit bool }

// handleMonitor obeys one monitor message. Bad or refused commands are
// logged and counted; the store is untouched.
func (c *core[S]) handleMonitor(data json.RawMessage) reply {
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		c.bad.Add(1)
		c.cfg.log.Warn("devtools: monitor message is not an object", "err", err)
		return reply{}
	}
	if m.InstanceID != "" && m.InstanceID != c.cfg.instanceID {
		c.cfg.log.Info("devtools: command for another instance ignored", "instance", m.InstanceID)
		return reply{}
	}
	switch m.Type {
	case "START":
		return reply{resendInit: true}
	case "DISPATCH":
		if err := c.timeTravel(m); err != nil {
			c.cfg.log.Warn("devtools: DISPATCH not applied", "err", err)
		}
	case "ACTION":
		if err := c.remoteDispatch(m); err != nil {
			c.cfg.log.Warn("devtools: ACTION not dispatched", "err", err)
		}
	case "DISCONNECTED", "STOP", "SYNC", "EXPORT", "IMPORT", "UPDATE":
		c.cfg.log.Debug("devtools: monitor message ignored", "type", m.Type)
	default:
		c.bad.Add(1)
		c.cfg.log.Warn("devtools: unknown monitor message", "type", m.Type)
	}
	return reply{}
}

func (c *core[S]) timeTravel(m message) error {
	var ma monitorAction
	if err := json.Unmarshal(m.Action, &ma); err != nil {
		c.bad.Add(1)
		return fmt.Errorf("%w: DISPATCH action: %v", ErrBadFrame, err)
	}
	if !c.cfg.timeTravel {
		c.refused.Add(1)
		return fmt.Errorf("%w: %s (time travel is off; see WithTimeTravel)", ErrRefused, ma.Type)
	}
	switch ma.Type {
	case "JUMP_TO_STATE", "JUMP_TO_ACTION":
		if m.State == nil {
			c.bad.Add(1)
			return fmt.Errorf("%w: %s without a state", ErrBadFrame, ma.Type)
		}
		var s S
		if err := json.Unmarshal([]byte(*m.State), &s); err != nil {
			c.bad.Add(1)
			return fmt.Errorf("%w: %s state: %v", ErrBadFrame, ma.Type, err)
		}
		return c.replace(s)
	case "ROLLBACK":
		c.mu.Lock()
		s := c.committed
		c.mu.Unlock()
		return c.replace(s)
	case "RESET":
		c.mu.Lock()
		s := c.initial
		c.committed = s
		c.mu.Unlock()
		return c.replace(s)
	case "COMMIT":
		c.mu.Lock()
		c.committed = c.st.State()
		c.mu.Unlock()
		c.jumps.Add(1)
		return nil
	}
	c.refused.Add(1)
	return fmt.Errorf("%w: %s is not supported on a live store", ErrRefused, ma.Type)
}

func (c *core[S]) replace(s S) error {
	if err := c.st.Replace(s, "devtools"); err != nil {
		return err
	}
	c.jumps.Add(1)
	return nil
}

func (c *core[S]) remoteDispatch(m message) error {
	if !c.cfg.remoteDispatch {
		c.refused.Add(1)
		return fmt.Errorf("%w: dispatch from the monitor is off (see WithRemoteDispatch)", ErrRefused)
	}
	var lit string
	if err := json.Unmarshal(m.Action, &lit); err != nil {
		c.bad.Add(1)
		return fmt.Errorf("%w: ACTION is not a string: %v", ErrBadFrame, err)
	}
	js, err := jsLiteralToJSON(lit)
	if err != nil {
		c.bad.Add(1)
		return err
	}
	var obj struct {
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(js, &obj); err != nil || obj.Type == "" {
		c.bad.Add(1)
		return fmt.Errorf("%w: the action needs a type", ErrBadFrame)
	}
	a, err := actions.Decode(obj.Type, obj.Payload)
	if err != nil {
		c.bad.Add(1)
		return err
	}
	a.Meta.Time = time.Now()
	if err := c.st.Dispatch(a.WithSource("devtools")); err != nil {
		return err
	}
	c.dispatched.Add(1)
	return nil
}
