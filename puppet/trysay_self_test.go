package puppet_test

import (
	"context"
	"testing"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/stretchr/testify/assert"
)

// byValue is a puppet implemented on a struct value that holds a map, a
// type that is not comparable; its TrySay checks self the way the
// TrySayer doc shows for a pointer, which compares two values of that
// type.
type byValue struct {
	sent map[string]int
}

func (b byValue) Name() string                                       { return "by-value" }
func (b byValue) Start(context.Context) error                        { return nil }
func (b byValue) Stop(context.Context) error                         { return nil }
func (b byValue) Events() <-chan puppet.Event                        { return nil }
func (b byValue) Rooms(context.Context) ([]puppet.Room, error)       { return nil, nil }
func (b byValue) Contacts(context.Context) ([]puppet.Contact, error) { return nil, nil }
func (b byValue) Close() error                                       { return nil }
func (b byValue) Say(_ context.Context, to, _ string) error          { b.sent[to]++; return nil }

func (b byValue) TrySay(self puppet.Puppet, to, text string) (bool, error) {
	if self != puppet.Puppet(b) { // panics: the type is not comparable
		return false, nil
	}
	return true, b.Say(context.Background(), to, text)
}

// TestTrySayUncomparableSelf: a TrySayer whose type is not comparable
// cannot be told from a wrapper by ==; TrySay declines (the caller then
// calls Say, which works) rather than panicking, which through a guard
// would report every text send as a Say that panicked (outcome unknown,
// counted against the bot) though nothing was sent.
func TestTrySayUncomparableSelf(t *testing.T) {
	b := byValue{sent: map[string]int{}}
	assert.NotPanics(t, func() {
		done, err := puppet.TrySay(b, "alice", "hi")
		assert.False(t, done)
		assert.NoError(t, err)
	})
	done, err := puppet.TrySay(puppet.Guard(b), "alice", "hi")
	assert.False(t, done, "through the guard: no answer at once, then Say")
	assert.NoError(t, err)
	assert.Empty(t, b.sent, "nothing sent by a TrySay that did not answer")
	assert.NoError(t, puppet.Guard(b).Say(context.Background(), "alice", "hi"))
	assert.Equal(t, 1, b.sent["alice"])
}
