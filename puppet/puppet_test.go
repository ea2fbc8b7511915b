package puppet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want puppet.Outcome
	}{
		{nil, puppet.Delivered},
		{fmt.Errorf("dial: %w", puppet.ErrNotSent), puppet.NotSent},
		{fmt.Errorf("no such room: %w", puppet.ErrPermanent), puppet.Permanent},
		{fmt.Errorf("timeout: %w", puppet.ErrOutcomeUnknown), puppet.OutcomeUnknown},
		{errors.New("something odd"), puppet.OutcomeUnknown},
		{context.DeadlineExceeded, puppet.OutcomeUnknown},
		{fmt.Errorf("%w: %w", puppet.ErrNotSent, context.Canceled), puppet.NotSent},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, puppet.Classify(tt.err), "%v", tt.err)
	}
	assert.Equal(t, "not sent", puppet.NotSent.String())
	assert.Equal(t, "outcome(99)", puppet.Outcome(99).String())
	assert.Equal(t, "dong", puppet.EventDong.String())
	assert.Equal(t, "unknown", puppet.EventKind(0).String())
}

func TestSecretNeverPrints(t *testing.T) {
	s := puppet.NewSecret("hunter2")
	cfg := puppet.Config{Name: "x#0", Token: s}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "cfg", cfg, "token", s)
	data, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, s), string(data), logged.String()} {
		assert.NotContains(t, out, "hunter2")
	}
	assert.Equal(t, "hunter2", s.Reveal())
	assert.False(t, s.IsZero())
	assert.True(t, puppet.Secret{}.IsZero())
}

// registrations counts TestRegistry runs: the registry is global, so each
// run (-count=N) registers its own name.
var registrations atomic.Int64

func TestRegistry(t *testing.T) {
	name := fmt.Sprintf("registry-test-%d", registrations.Add(1))
	puppet.Register(name, func(cfg puppet.Config) (puppet.Puppet, error) {
		return nil, errors.New("cannot build")
	})
	assert.Contains(t, puppet.Names(), name)
	assert.Panics(t, func() {
		puppet.Register(name, func(puppet.Config) (puppet.Puppet, error) { return nil, nil })
	})
	assert.Panics(t, func() { puppet.Register("", nil) })
	_, err := puppet.New(name, puppet.Config{})
	assert.ErrorContains(t, err, `puppet: new "`+name+`": cannot build`)
	_, err = puppet.New("nope", puppet.Config{})
	assert.ErrorIs(t, err, puppet.ErrUnknownPuppet)
}

func TestMessageConversation(t *testing.T) {
	assert.Equal(t, "room", (&puppet.Message{From: "a", Room: "room"}).Conversation())
	assert.Equal(t, "a", (&puppet.Message{From: "a"}).Conversation())
}
