package devtools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadFrame is wrapped by every error about a frame from the network.
var ErrBadFrame = errors.New("devtools: bad frame")

// packet is one SocketCluster protocol message.
type packet struct {
	Event string          `json:"event,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Cid   int64           `json:"cid,omitempty"`
	Rid   int64           `json:"rid,omitempty"`
	Error json.RawMessage `json:"error,omitempty"`
}

// frameKind tells what a websocket text frame carries.
type frameKind int

const (
	framePackets frameKind = iota // one packet or a JSON array of them
	framePingV2                   // "": answer ""
	framePingV1                   // "#1": answer "#2"
)

// maxPacketsPerFrame bounds the work one frame can ask for.
const maxPacketsPerFrame = 256

// decodeFrame parses one text frame. It never panics; anything it cannot
// use is an error wrapping ErrBadFrame.
func decodeFrame(b []byte) (frameKind, []packet, error) {
	t := bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return framePingV2, nil, nil
	case string(t) == "#1":
		return framePingV1, nil, nil
	case len(t) == 0:
		return 0, nil, fmt.Errorf("%w: blank", ErrBadFrame)
	case t[0] == '[':
		var ps []packet
		if err := json.Unmarshal(t, &ps); err != nil {
			return 0, nil, fmt.Errorf("%w: %v", ErrBadFrame, err)
		}
		if len(ps) > maxPacketsPerFrame {
			return 0, nil, fmt.Errorf("%w: %d packets in one frame", ErrBadFrame, len(ps))
		}
		return framePackets, ps, nil
	case t[0] == '{':
		var p packet
		if err := json.Unmarshal(t, &p); err != nil {
			return 0, nil, fmt.Errorf("%w: %v", ErrBadFrame, err)
		}
		return framePackets, []packet{p}, nil
	}
	return 0, nil, fmt.Errorf("%w: not JSON", ErrBadFrame)
}

// publish is the data of a #publish event.
type publish struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

// handshake is the data of a #handshake reply.
type handshake struct {
	ID          string `json:"id"`
	PingTimeout int64  `json:"pingTimeout"`
}
