package hawechaty

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hawechaty/hawechaty/puppet"
	_ "github.com/hawechaty/hawechaty/puppet/mock" // registers "mock"
)

// Environment variables read by FromEnv, as in HAWechaty.
const (
	EnvPuppet = "HA_WECHATY_PUPPET"       // puppet names, ':'-separated
	EnvToken  = "HA_WECHATY_PUPPET_TOKEN" // tokens, ':'-separated, paired by position
)

// ErrEnv is wrapped by every configuration error of FromEnv.
var ErrEnv = errors.New("hawechaty: bad environment")

// FromEnv builds a pool from HA_WECHATY_PUPPET and HA_WECHATY_PUPPET_TOKEN:
// one bot per name, paired with the token at the same position. The names
// are those registered with puppet.Register ("mock" is built in; real
// adapters register when their package is imported), and the Wechaty
// puppet names of HAWechaty configurations: those Go reaches through a
// puppet service ("wechaty-puppet-padlocal", "wechaty-puppet-hostie", …)
// are served by "wechaty-puppet-service", and the others fail with the fix
// in the error (puppet.LookupWechatyName). Bots are named
// "<puppet>#<index>". Tokens never appear in errors, logs or state.
//
// When HA_WECHATY_PUPPET_TOKEN is empty, every bot gets an empty token;
// otherwise the counts must match. When HA_WECHATY_REDIS (EnvRedis) is
// set, the pool is one of the processes that share these bots through
// that Redis (WithCluster).
func FromEnv(ctx context.Context, opts ...Option) (*Pool, error) {
	return FromEnvironment(ctx, os.Getenv, opts...)
}

// FromEnvironment is FromEnv with the environment read through getenv.
func FromEnvironment(ctx context.Context, getenv func(string) string, opts ...Option) (*Pool, error) {
	puppets, err := ParseEnv(getenv)
	if err != nil {
		return nil, err
	}
	pool, err := New(withEnvCluster(getenv, opts)...)
	if err != nil {
		return nil, err
	}
	for _, cfg := range puppets {
		p, err := puppet.New(kindOf(cfg.Name), cfg)
		if err != nil {
			_ = pool.Stop(ctx)
			return nil, fmt.Errorf("%w: %s position %d: %w", ErrEnv, EnvPuppet, cfg.Index, err)
		}
		if p.Name() != cfg.Name {
			p = renamed{Puppet: p, name: cfg.Name}
		}
		if err := pool.Add(ctx, p); err != nil {
			_ = p.Close()
			_ = pool.Stop(ctx)
			return nil, err
		}
	}
	return pool, nil
}

// renamed gives a puppet the pool's name for it.
type renamed struct {
	puppet.Puppet
	name string
}

func (r renamed) Name() string { return r.name }

// Unwrap returns the renamed puppet, for puppet.Capability.
func (r renamed) Unwrap() puppet.Puppet { return r.Puppet }

// TrySay forwards to the puppet's TrySay (puppet.TrySayer), if it has
// one: renaming changes nothing about sending.
func (r renamed) TrySay(_ puppet.Puppet, to, text string) (bool, error) {
	return puppet.TrySay(r.Puppet, to, text)
}

// Ding forwards to the puppet's Dinger, if it has one.
func (r renamed) Ding(ctx context.Context, data string) error {
	if d, ok := r.Puppet.(puppet.Dinger); ok {
		return d.Ding(ctx, data)
	}
	return fmt.Errorf("hawechaty: %q cannot ding: %w", r.name, puppet.ErrPermanent)
}

// ParseEnv reads the puppet list from the environment without building
// anything. Every problem is reported, naming the variables.
func ParseEnv(getenv func(string) string) ([]puppet.Config, error) {
	names := strings.TrimSpace(getenv(EnvPuppet))
	if names == "" {
		return nil, fmt.Errorf("%w: %s is empty; set it to ':'-separated puppet names, e.g. mock:mock (registered: %q)", ErrEnv, EnvPuppet, puppet.Names())
	}
	list := strings.Split(names, ":")
	rawTokens := getenv(EnvToken)
	var tokens []string
	if rawTokens != "" {
		tokens = strings.Split(rawTokens, ":")
		if len(tokens) != len(list) {
			return nil, fmt.Errorf("%w: %s has %d puppet names but %s has %d tokens; they are paired by position",
				ErrEnv, EnvPuppet, len(list), EnvToken, len(tokens))
		}
	}
	var errs []error
	out := make([]puppet.Config, 0, len(list))
	for i, n := range list {
		n = strings.TrimSpace(n)
		if n == "" {
			errs = append(errs, fmt.Errorf("%w: %s position %d is empty", ErrEnv, EnvPuppet, i))
			continue
		}
		cfg := puppet.Config{Name: fmt.Sprintf("%s#%d", n, i), Index: i, Getenv: getenv}
		if tokens != nil {
			cfg.Token = puppet.NewSecret(tokens[i])
		}
		out = append(out, cfg)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
