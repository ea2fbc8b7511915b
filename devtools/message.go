package devtools

import "encoding/json"

// message is an app message (the "log" event) or a monitor message, in the
// shape Redux DevTools uses. Payload, Action and State are JSON strings
// inside JSON.
type message struct {
	Type         string          `json:"type"`
	ID           string          `json:"id,omitempty"`
	InstanceID   string          `json:"instanceId,omitempty"`
	Name         string          `json:"name,omitempty"`
	Payload      *string         `json:"payload,omitempty"`
	Action       json.RawMessage `json:"action,omitempty"`
	State        *string         `json:"state,omitempty"`
	NextActionID int             `json:"nextActionId,omitempty"`
	MaxAge       int             `json:"maxAge,omitempty"`
	LibConfig    *libConfig      `json:"libConfig,omitempty"`
}

type libConfig struct {
	Name     string          `json:"name"`
	Features map[string]bool `json:"features"`
}

// performAction is the lifted action of an ACTION message.
type performAction struct {
	Action    json.RawMessage `json:"action"`
	Timestamp int64           `json:"timestamp"`
	Type      string          `json:"type"`
}

// monitorAction is the action inside a monitor's DISPATCH message.
type monitorAction struct {
	Type     string `json:"type"`
	ActionID *int   `json:"actionId,omitempty"`
	Index    *int   `json:"index,omitempty"`
}
