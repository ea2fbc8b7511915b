package hawechaty_test

import (
	"context"
	"testing"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/puppet"
	_ "github.com/hawechaty/hawechaty/puppet/wechatyservice" // serves the Wechaty names below
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFromEnvironmentWechatyNames: the puppet names HAWechaty users have in
// their environment build bots when Go can reach the account (through a
// puppet service), and fail with the fix when it cannot.
func TestFromEnvironmentWechatyNames(t *testing.T) {
	served := map[string]string{
		hawechaty.EnvPuppet:                 "wechaty-puppet-padlocal:wechaty-puppet-service:wechaty-puppet-hostie",
		hawechaty.EnvToken:                  "insecure_pad:insecure_svc:insecure_hostie",
		"WECHATY_PUPPET_SERVICE_ENDPOINT":   "127.0.0.1:8788",
		"WECHATY_PUPPET_SERVICE_ENDPOINT_1": "127.0.0.1:8789",
	}
	pool, err := hawechaty.FromEnvironment(t.Context(), func(k string) string { return served[k] })
	require.NoError(t, err)
	assert.Equal(t, []string{"wechaty-puppet-padlocal#0", "wechaty-puppet-service#1", "wechaty-puppet-hostie#2"}, pool.State().Bots.Keys())
	require.NoError(t, pool.Stop(context.Background()))

	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"padlocal without a service", map[string]string{hawechaty.EnvPuppet: "wechaty-puppet-padlocal", hawechaty.EnvToken: "puppet_padlocal_secret"},
			[]string{"HA_WECHATY_PUPPET position 0", "no endpoint", "npx wechaty gateway --puppet wechaty-puppet-padlocal"}},
		{"a browser puppet", map[string]string{hawechaty.EnvPuppet: "mock:wechaty-puppet-wechat"},
			[]string{"HA_WECHATY_PUPPET position 1", "browser", "use wechaty-puppet-service"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := hawechaty.FromEnvironment(t.Context(), func(k string) string { return tt.env[k] })
			require.Error(t, err)
			assert.ErrorIs(t, err, hawechaty.ErrEnv)
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
			assert.NotContains(t, err.Error(), "puppet_padlocal_secret")
		})
	}
	_, err = hawechaty.FromEnvironment(t.Context(), func(k string) string {
		return map[string]string{hawechaty.EnvPuppet: "wechaty-puppet-xp"}[k]
	})
	assert.ErrorIs(t, err, puppet.ErrNoGoPuppet)
}
