package puppet

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withRegistry runs the test with only the given factories registered.
func withRegistry(t *testing.T, factories map[string]Factory) {
	regMu.Lock()
	saved := registry
	registry = factories
	regMu.Unlock()
	t.Cleanup(func() {
		regMu.Lock()
		registry = saved
		regMu.Unlock()
	})
}

// named is a puppet that remembers the factory and config it came from.
type named struct {
	Puppet
	via string
	cfg Config
}

func (n named) Name() string { return n.cfg.Name }

func TestWechatyNames(t *testing.T) {
	built := func(via string) Factory {
		return func(cfg Config) (Puppet, error) { return named{via: via, cfg: cfg}, nil }
	}
	withRegistry(t, map[string]Factory{
		"wechaty-puppet-service": func(cfg Config) (Puppet, error) {
			if cfg.Getenv("WECHATY_PUPPET_SERVICE_ENDPOINT") == "" {
				return nil, errors.New("no endpoint")
			}
			return named{via: "wechaty-puppet-service", cfg: cfg}, nil
		},
		"mock": built("mock"),
	})
	withEndpoint := func(string) string { return "" }
	endpoint := func(k string) string {
		return map[string]string{"WECHATY_PUPPET_SERVICE_ENDPOINT": "10.0.0.5:8788"}[k]
	}
	tests := []struct {
		name    string
		getenv  func(string) string
		via     string // the factory that built it
		wantErr error
		text    []string
	}{
		{name: "wechaty-puppet-service", getenv: endpoint, via: "wechaty-puppet-service"},
		{name: "wechaty-puppet-hostie", getenv: endpoint, via: "wechaty-puppet-service"},
		{name: "wechaty-puppet-padlocal", getenv: endpoint, via: "wechaty-puppet-service"},
		{name: "wechaty-puppet-paimon", getenv: endpoint, via: "wechaty-puppet-service"},
		{name: "@juzibot/wechaty-puppet-wxwork", getenv: endpoint, via: "wechaty-puppet-service"},
		{name: "wechaty-puppet-mock", getenv: endpoint, via: "mock"},
		{name: "wechaty-puppet-padlocal", getenv: withEndpoint, text: []string{
			`puppet: new "wechaty-puppet-padlocal" (served by "wechaty-puppet-service"): no endpoint`,
			"npx wechaty gateway --puppet wechaty-puppet-padlocal", "WECHATY_PUPPET_SERVICE_ENDPOINT_<position>"}},
		{name: "wechaty-puppet-wechat", wantErr: ErrNoGoPuppet, text: []string{"Chromium browser", "npx wechaty gateway --puppet wechaty-puppet-wechat ", "use wechaty-puppet-service"}},
		{name: "wechaty-puppet-xp", wantErr: ErrNoGoPuppet, text: []string{"Windows"}},
		{name: "wechaty-puppet-wechat4u", wantErr: ErrNoGoPuppet, text: []string{"web protocol in Node"}},
		{name: "wechaty-puppet-padplus", wantErr: ErrNoGoPuppet, text: []string{"discontinued"}},
		{name: "wechaty-puppet-someday", wantErr: ErrUnknownPuppet, text: []string{"npx wechaty gateway --puppet wechaty-puppet-someday"}},
		{name: "nope", wantErr: ErrUnknownPuppet, text: []string{`"nope" (registered: ["mock" "wechaty-puppet-service"])`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := tt.getenv
			if getenv == nil {
				getenv = endpoint
			}
			cfg := Config{Name: tt.name + "#2", Index: 2, Token: NewSecret("puppet_padlocal_x"), Getenv: getenv}
			p, err := New(tt.name, cfg)
			if tt.via != "" {
				require.NoError(t, err)
				assert.Equal(t, tt.via, p.(named).via)
				assert.Equal(t, cfg.Name, p.Name(), "the pool's name is kept")
				assert.Equal(t, 2, p.(named).cfg.Index, "the position pairs the puppet with its settings")
				assert.Equal(t, "puppet_padlocal_x", p.(named).cfg.Token.Reveal(), "the token goes along")
				return
			}
			require.Error(t, err)
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
			}
			for _, s := range tt.text {
				assert.Contains(t, err.Error(), s)
			}
			assert.NotContains(t, err.Error(), "puppet_padlocal_x", "no token in errors")
		})
	}
}

// TestWechatyNameWithoutItsAdapter: the service adapter is not imported;
// the error names the import.
func TestWechatyNameWithoutItsAdapter(t *testing.T) {
	withRegistry(t, map[string]Factory{})
	_, err := New("wechaty-puppet-padlocal", Config{Getenv: func(string) string { return "" }})
	assert.ErrorIs(t, err, ErrNoGoPuppet)
	assert.ErrorContains(t, err, `import _ "github.com/hawechaty/hawechaty/puppet/wechatyservice"`)
	_, err = New("wechaty-puppet-mock", Config{})
	assert.ErrorContains(t, err, `served by "mock", which is not registered`)
}

func TestWechatyNamesListed(t *testing.T) {
	names := WechatyNames()
	assert.Contains(t, names, "wechaty-puppet-padlocal")
	assert.IsIncreasing(t, names)
	for _, n := range names {
		w, ok := LookupWechatyName(n)
		require.True(t, ok)
		assert.NotEmpty(t, w.What, n)
		assert.NotEmpty(t, w.Fix, n)
	}
	_, ok := LookupWechatyName("mock")
	assert.False(t, ok)
}
