package devtools

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hawechaty/hawechaty/actions"
	"github.com/hawechaty/hawechaty/store"
)

// ErrRefused is wrapped by the errors logged for monitor commands that the
// options do not allow, or that cannot apply to a live store.
var ErrRefused = errors.New("devtools: command refused")

// Stats counts what a Client or an Endpoint did.
type Stats struct {
	Connected  bool   // client: a relay session is up
	Sessions   uint64 // client: relay sessions opened; endpoint: monitors accepted
	Sent       uint64 // app messages sent (START, INIT, ACTION)
	Dropped    uint64 // store changes dropped because the network was slow
	Refused    uint64 // monitor commands refused by the options
	BadFrames  uint64 // frames or monitor messages that were malformed or unknown
	Ignored    uint64 // monitor commands for another instance
	Jumps      uint64 // time-travel commands applied
	Dispatched uint64 // actions dispatched from a monitor
}

// core is the app side of the protocol, shared by the client and the
// embedded endpoint: it builds app messages and obeys monitor commands.
// It holds no lock: what it shares is atomic or read-only.
type core[S any] struct {
	st  *store.Store[S]
	cfg config
	// initial is the state when DevTools attached: RESET returns to it.
	initial S
	nextID  atomic.Int64

	sent, refused, bad, ignored, jumps, dispatched atomic.Uint64
}

func newCore[S any](st *store.Store[S], cfg config) *core[S] {
	return &core[S]{st: st, cfg: cfg, initial: st.State()}
}

// encode marshals v and passes it through the redactor. A panic there (a
// state's MarshalJSON, a redactor given by WithRedactor) is an error, as a
// failing one is: the message is not sent, and the store and the process
// go on.
func (c *core[S]) encode(v any) (_ string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("devtools: encode: a MarshalJSON or the redactor panicked: %v", r)
		}
	}()
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("devtools: encode: %w", err)
	}
	if b, err = c.cfg.redact(b); err != nil {
		return "", fmt.Errorf("devtools: redact: %w", err)
	}
	if !json.Valid(b) {
		return "", errors.New("devtools: redact: the redactor returned invalid JSON")
	}
	return string(b), nil
}

// startMessage announces the app.
func (c *core[S]) startMessage(socketID string) message {
	return message{Type: "START", ID: socketID, InstanceID: c.cfg.instanceID, Name: c.cfg.name}
}

// initMessage carries the current state, which it also returns: once the
// message is sent, the monitor's history starts over from it.
func (c *core[S]) initMessage(socketID string) (message, S, error) {
	s := c.st.State()
	payload, err := c.encode(s)
	if err != nil {
		return message{}, s, err
	}
	return message{
		Type: "INIT", ID: socketID, InstanceID: c.cfg.instanceID, Name: c.cfg.name,
		Payload: &payload, MaxAge: c.cfg.maxAge,
		LibConfig: &libConfig{Name: c.cfg.name, Features: map[string]bool{
			"jump": c.cfg.timeTravel, "skip": false, "reorder": false, "dispatch": c.cfg.remoteDispatch,
			"import": false, "export": true, "lock": false, "pause": false, "persist": false, "test": false,
		}},
	}, s, nil
}

// actionMessage carries one store change, under a new action ID. The
// caller records (id, ch.State) in the history of every monitor that gets
// the message.
func (c *core[S]) actionMessage(socketID string, ch store.Change[S]) (message, int, error) {
	payload, err := c.encode(ch.State)
	if err != nil {
		return message{}, 0, err
	}
	act, err := c.encode(ch.Action)
	if err != nil {
		return message{}, 0, err
	}
	lifted, err := json.Marshal(performAction{Action: json.RawMessage(act), Timestamp: ch.Action.Meta.Time.UnixMilli(), Type: "PERFORM_ACTION"})
	if err != nil {
		return message{}, 0, fmt.Errorf("devtools: encode: %w", err)
	}
	liftedStr, err := json.Marshal(string(lifted))
	if err != nil {
		return message{}, 0, fmt.Errorf("devtools: encode: %w", err)
	}
	// The monitor files an ACTION under nextActionId-1.
	id := int(c.nextID.Add(1))
	return message{
		Type: "ACTION", ID: socketID, InstanceID: c.cfg.instanceID, Name: c.cfg.name,
		Payload: &payload, Action: liftedStr, NextActionID: id + 1, MaxAge: c.cfg.maxAge,
	}, id, nil
}

// reply is what the connection must do after a monitor message.
type reply struct {
	// reinit: send INIT with the current state (START, COMMIT, ROLLBACK,
	// RESET), which also resets the monitor's history.
	reinit bool
	// errText, if set, goes back to the monitor as an ERROR message: why
	// the ACTION it sent was not dispatched.
	errText string
}

// handleMonitor obeys one monitor message, addressed to this app, about
// the history h that monitor holds. Bad, foreign or refused commands are
// logged and counted; the store is untouched.
func (c *core[S]) handleMonitor(data json.RawMessage, h *history[S]) reply {
	log := c.cfg.log
	var m message
	if err := json.Unmarshal(data, &m); err != nil {
		c.bad.Add(1)
		log.Warn("devtools: monitor message ignored: not an app message object", "err", err)
		return reply{}
	}
	if m.InstanceID != "" && m.InstanceID != c.cfg.instanceID {
		c.ignored.Add(1)
		log.Info("devtools: monitor message for another instance ignored", "type", m.Type, "instance", m.InstanceID, "ours", c.cfg.instanceID)
		return reply{}
	}
	switch m.Type {
	case "START":
		return reply{reinit: true}
	case "DISPATCH":
		r, err := c.timeTravel(m, h)
		if err != nil {
			log.Warn("devtools: monitor DISPATCH not applied", "err", err)
		}
		return r
	case "ACTION":
		if err := c.remoteDispatch(m); err != nil {
			log.Warn("devtools: monitor ACTION not dispatched", "err", err)
			return reply{errText: err.Error()}
		}
	case "DISCONNECTED", "STOP", "SYNC", "EXPORT", "UPDATE":
		log.Debug("devtools: monitor message ignored", "type", m.Type)
	case "IMPORT":
		c.refused.Add(1)
		log.Warn("devtools: monitor IMPORT refused: a live store does not load states from outside")
	default:
		c.bad.Add(1)
		log.Warn("devtools: unknown monitor message ignored", "type", m.Type)
	}
	return reply{}
}

// timeTravel applies a DISPATCH (see the package doc for what a jump means
// on a live store). The target state always comes from h, never from the
// state the monitor sends.
func (c *core[S]) timeTravel(m message, h *history[S]) (reply, error) {
	var ma monitorAction
	if err := json.Unmarshal(m.Action, &ma); err != nil || ma.Type == "" {
		c.bad.Add(1)
		return reply{}, fmt.Errorf("%w: DISPATCH without an action type", ErrBadFrame)
	}
	if !c.cfg.timeTravel {
		c.refused.Add(1)
		return reply{}, fmt.Errorf("%w: %s (time travel is off; see WithTimeTravel)", ErrRefused, ma.Type)
	}
	var (
		target S
		ok     bool
	)
	switch ma.Type {
	case "JUMP_TO_STATE":
		if ma.Index != nil {
			target, ok = h.byIndex(*ma.Index)
		}
	case "JUMP_TO_ACTION":
		if ma.ActionID != nil {
			target, ok = h.byAction(*ma.ActionID)
		}
	case "ROLLBACK":
		target, ok = h.byIndex(0)
	case "RESET":
		target, ok = c.initial, true
	case "COMMIT":
		c.jumps.Add(1)
		return reply{reinit: true}, nil
	default:
		c.refused.Add(1)
		return reply{}, fmt.Errorf("%w: %s does not apply to a live store", ErrRefused, ma.Type)
	}
	if !ok {
		c.refused.Add(1)
		return reply{}, fmt.Errorf("%w: %s: no such state in the last %d (index %v, action %v)", ErrRefused, ma.Type, c.cfg.maxAge, deref(ma.Index), deref(ma.ActionID))
	}
	if err := c.st.Replace(target, "devtools"); err != nil {
		return reply{}, fmt.Errorf("devtools: %s: %w", ma.Type, err)
	}
	c.jumps.Add(1)
	// After ROLLBACK and RESET the monitor waits for a new INIT; after a
	// jump it keeps its history and moves its cursor itself.
	return reply{reinit: ma.Type == "ROLLBACK" || ma.Type == "RESET"}, nil
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// errorMessage tells the monitor that something it asked for failed.
func (c *core[S]) errorMessage(socketID, text string) message {
	return message{Type: "ERROR", ID: socketID, InstanceID: c.cfg.instanceID, Name: c.cfg.name, Payload: &text}
}

// remoteDispatch dispatches the action a monitor typed in its dispatcher,
// if its type is one WithRemoteDispatch allows.
func (c *core[S]) remoteDispatch(m message) error {
	if !c.cfg.remoteDispatch {
		c.refused.Add(1)
		return fmt.Errorf("%w: dispatch from the monitor is off (see WithRemoteDispatch)", ErrRefused)
	}
	var lit string
	if err := json.Unmarshal(m.Action, &lit); err != nil {
		c.bad.Add(1)
		return fmt.Errorf("%w: ACTION is not a string: %w", ErrBadFrame, err)
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
		return fmt.Errorf("%w: the action needs a string type", ErrBadFrame)
	}
	if reserved(obj.Type) || !c.cfg.dispatchTypes[obj.Type] {
		c.refused.Add(1)
		return fmt.Errorf("%w: %q is not an action type a monitor may dispatch (see WithRemoteDispatch)", ErrRefused, obj.Type)
	}
	a, err := actions.Decode(obj.Type, obj.Payload)
	if err != nil {
		c.bad.Add(1)
		return fmt.Errorf("devtools: monitor action: %w", err)
	}
	a.Meta.Time = time.Now()
	if err := c.st.Dispatch(a.WithSource("devtools")); err != nil {
		return fmt.Errorf("devtools: dispatch %q: %w", obj.Type, err)
	}
	c.dispatched.Add(1)
	return nil
}

// stats fills the counters the core keeps.
func (c *core[S]) stats(s Stats) Stats {
	s.Sent = c.sent.Load()
	s.Refused = c.refused.Load()
	s.BadFrames = c.bad.Load()
	s.Ignored = c.ignored.Load()
	s.Jumps = c.jumps.Load()
	s.Dispatched = c.dispatched.Load()
	return s
}
