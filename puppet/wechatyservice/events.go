package wechatyservice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	pbp "github.com/wechaty/go-grpc/wechaty/puppet"
)

// wire is one event of the service's stream, decoded. Kind is zero for
// the event types the pool does not use (ready, dirty, room-join…).
// MessageID is set for EventMessage: the text comes with MessagePayload.
type wire struct {
	Kind      puppet.EventKind
	Self      string // EventLogin, EventLogout: the account's contact ID
	Data      string
	MessageID string
	Scan      puppet.ScanStatus // EventScan

	// FriendshipID is set for EventFriendAdded: the service announces a
	// friendship, whose payload tells its type (only a confirmed one is
	// an added friend).
	FriendshipID string
}

// payload is the union of the JSON payloads of the events we read
// (wechaty-puppet's Event*Payload types).
type payload struct {
	ContactID string          `json:"contactId"`
	MessageID string          `json:"messageId"`
	QRCode    string          `json:"qrcode"`
	Data      json.RawMessage `json:"data"`
	GError    string          `json:"gerror"`
	Status    json.RawMessage `json:"status"`
	// FriendshipID is the friendship event's payload.
	FriendshipID string `json:"friendshipId"`
}

// scanStatuses are Wechaty's scan statuses (wechaty-puppet ScanStatus),
// by number: unknown, cancel, waiting, scanned, confirmed, timeout.
var scanStatuses = [...]puppet.ScanStatus{
	puppet.ScanUnknown, puppet.ScanCanceled, puppet.ScanWaiting,
	puppet.ScanScanned, puppet.ScanConfirmed, puppet.ScanTimeout,
}

// scanStatus reads Wechaty's scan status number. Anything else (no status,
// a number it does not know, not a number) is ScanUnknown: the event, and
// its QR code, still count.
func scanStatus(raw json.RawMessage) puppet.ScanStatus {
	var n float64
	if json.Unmarshal(raw, &n) != nil || n < 0 || n >= float64(len(scanStatuses)) || n != float64(int(n)) {
		return puppet.ScanUnknown
	}
	return scanStatuses[int(n)]
}

// decodeEvent turns a stream event into a wire event. It never panics; a
// payload that cannot be read is an error.
func decodeEvent(ev *pbp.EventResponse) (wire, error) {
	if ev == nil {
		return wire{}, fmt.Errorf("wechatyservice: nil event")
	}
	var kind puppet.EventKind
	switch ev.GetType() {
	case pbp.EventType_EVENT_TYPE_LOGIN:
		kind = puppet.EventLogin
	case pbp.EventType_EVENT_TYPE_LOGOUT:
		kind = puppet.EventLogout
	case pbp.EventType_EVENT_TYPE_SCAN:
		kind = puppet.EventScan
	case pbp.EventType_EVENT_TYPE_MESSAGE:
		kind = puppet.EventMessage
	case pbp.EventType_EVENT_TYPE_DONG:
		kind = puppet.EventDong
	case pbp.EventType_EVENT_TYPE_HEARTBEAT:
		kind = puppet.EventHeartbeat
	case pbp.EventType_EVENT_TYPE_ERROR:
		kind = puppet.EventError
	case pbp.EventType_EVENT_TYPE_FRIENDSHIP:
		kind = puppet.EventFriendAdded // if its payload says confirmed
	default:
		return wire{}, nil
	}
	var p payload
	if s := ev.GetPayload(); s != "" {
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			return wire{}, fmt.Errorf("wechatyservice: %s event: bad payload: %w", kind, err)
		}
	}
	w := wire{Kind: kind, Data: dataString(p.Data)}
	switch kind {
	case puppet.EventLogin:
		if p.ContactID == "" {
			return wire{}, fmt.Errorf("wechatyservice: login event without contactId")
		}
		w.Self = p.ContactID
	case puppet.EventLogout:
		w.Self = p.ContactID
	case puppet.EventScan:
		w.Data, w.Scan = p.QRCode, scanStatus(p.Status)
	case puppet.EventFriendAdded:
		if p.FriendshipID == "" {
			return wire{}, fmt.Errorf("wechatyservice: friendship event without friendshipId")
		}
		w.FriendshipID = p.FriendshipID
	case puppet.EventMessage:
		if p.MessageID == "" {
			return wire{}, fmt.Errorf("wechatyservice: message event without messageId")
		}
		w.MessageID = p.MessageID
	case puppet.EventError:
		if w.Data == "" {
			w.Data = p.GError
		}
	}
	return w, nil
}

// dataString reads a payload's data field, which services send as a string
// or as any JSON value. Any other value is encoded again, compact and with
// its strings unescaped, so that what it says (a token spelled with \u
// escapes, say) is plain text for the redaction that follows.
func dataString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(raw) // not reached: raw came out of a valid payload
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return string(raw)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// messageFrom converts a MessagePayload answer.
func messageFrom(m *pbp.MessagePayloadResponse) *puppet.Message {
	msg := &puppet.Message{
		ID:   m.GetId(),
		From: m.GetTalkerId(),
		To:   m.GetListenerId(),
		Room: m.GetRoomId(),
		Text: m.GetText(),
		Kind: kindOf(int32(m.GetType())),
	}
	if t := m.GetReceiveTime(); t != nil {
		msg.Time = t.AsTime()
	} else {
		//lint:ignore SA1019 services older than receive_time (2021) send only this millisecond timestamp
		ms := m.GetTimestampDeprecated()
		if ms != 0 && ms < 1<<53 {
			msg.Time = time.UnixMilli(int64(ms)).UTC()
		}
	}
	return msg
}
