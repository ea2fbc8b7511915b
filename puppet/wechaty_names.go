package puppet

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// ErrNoGoPuppet is returned by New for a Wechaty puppet name that a
// HAWechaty configuration may hold but that has no Go puppet here: its
// message says what the puppet is and how to reach the account from Go.
var ErrNoGoPuppet = errors.New("puppet: no Go puppet for this Wechaty puppet")

// WechatyName says how a Wechaty puppet name, as HAWechaty users have them
// in HA_WECHATY_PUPPET, is served in Go.
type WechatyName struct {
	// Name is the Wechaty puppet's npm name, for example
	// "wechaty-puppet-padlocal".
	Name string
	// Via is the registered puppet that serves the name, with the same
	// token and the same per-position settings: "wechaty-puppet-service"
	// for accounts reached through a Wechaty puppet service, "mock" for
	// the mock. Empty when Go cannot serve it.
	Via string
	// What the Wechaty puppet is, for error messages.
	What string
	// Fix says what to do: how to reach the account through Via, or,
	// without Via, how to reach it at all.
	Fix string
}

// ServicePackage is the import path of the package that registers
// "wechaty-puppet-service".
const ServicePackage = "github.com/hawechaty/hawechaty/puppet/wechatyservice"

// gateway is the fix for a Wechaty puppet that runs only in Node: the
// wechaty CLI's gateway serves it as a puppet service.
func gateway(name, token string) string {
	if token != "" {
		token = " --puppet-token " + token
	}
	return fmt.Sprintf("run it behind a Wechaty puppet service (`npx wechaty gateway --puppet %s%s --port 8788 --token insecure_<service token>`) "+
		"and use wechaty-puppet-service with that endpoint and service token", name, token)
}

const serviceEndpoint = "set WECHATY_PUPPET_SERVICE_ENDPOINT_<position> (or WECHATY_PUPPET_SERVICE_ENDPOINT) to the service's host:port; Go never asks Wechaty's discovery service"

// wechatyNames are the Wechaty puppets a HAWechaty configuration may name
// (wechaty's own list of official puppets, and the older names still
// found in configurations).
var wechatyNames = func() map[string]WechatyName {
	byName := map[string]WechatyName{}
	add := func(n WechatyName) { byName[n.Name] = n }
	for _, n := range []string{"wechaty-puppet-service", "wechaty-puppet-hostie"} {
		add(WechatyName{Name: n, Via: "wechaty-puppet-service", What: "the Wechaty puppet service client (hostie is its name before 2021)", Fix: serviceEndpoint})
	}
	add(WechatyName{Name: "wechaty-puppet-padlocal", Via: "wechaty-puppet-service",
		What: "PadLocal (WeChat's iPad protocol), a Node puppet that talks to PadLocal's servers",
		Fix: "in Go, PadLocal is reached through a puppet service: run `npx wechaty gateway --puppet wechaty-puppet-padlocal " +
			"--puppet-token puppet_padlocal_<token> --port 8788 --token insecure_<service token>`, " + serviceEndpoint +
			", and put the service token in HA_WECHATY_PUPPET_TOKEN"})
	for _, n := range []string{"wechaty-puppet-paimon", "wechaty-puppet-donut", "@juzibot/wechaty-puppet-donut", "wechaty-puppet-wxwork", "@juzibot/wechaty-puppet-wxwork"} {
		add(WechatyName{Name: n, Via: "wechaty-puppet-service", What: "a hosted Wechaty puppet service (its token is a service token)", Fix: serviceEndpoint})
	}
	add(WechatyName{Name: "wechaty-puppet-mock", Via: "mock", What: "Wechaty's mock puppet", Fix: "the Go mock world serves it"})
	for n, what := range map[string]string{
		"wechaty-puppet-wechat":           "WeChat's web protocol, driven in a Chromium browser",
		"wechaty-puppet-puppeteer":        "WeChat's web protocol in a browser (the old name of wechaty-puppet-wechat)",
		"wechaty-puppet-wechat4u":         "WeChat's web protocol in Node",
		"wechaty-puppet-xp":               "the WeChat desktop client on Windows, hooked",
		"wechaty-puppet-whatsapp":         "WhatsApp Web, driven in a Chromium browser",
		"wechaty-puppet-oicq":             "QQ, in Node",
		"wechaty-puppet-official-account": "a WeChat official account, in Node",
		"wechaty-puppet-gitter":           "Gitter, in Node",
		"wechaty-puppet-lark":             "Lark, in Node",
		"wechaty-puppet-walnut":           "5G messaging (Walnut), in Node",
	} {
		add(WechatyName{Name: n, What: what, Fix: gateway(n, "")})
	}
	add(WechatyName{Name: "wechaty-puppet-padplus", What: "a hosted iPad protocol service, discontinued in December 2020",
		Fix: "move the account to a current provider (wechaty-puppet-padlocal, for example)"})
	return byName
}()

// LookupWechatyName tells how a Wechaty puppet name is served in Go.
func LookupWechatyName(name string) (WechatyName, bool) {
	n, ok := wechatyNames[name]
	return n, ok
}

// WechatyNames lists the Wechaty puppet names that LookupWechatyName
// knows, sorted.
func WechatyNames() []string {
	return slices.Sorted(maps.Keys(wechatyNames))
}

// newWechaty builds a puppet for a Wechaty name that no factory is
// registered under: through its Via, or an error naming the fix.
func newWechaty(w WechatyName, cfg Config) (Puppet, error) {
	if w.Via == "" {
		return nil, fmt.Errorf("%w: %q is %s; %s", ErrNoGoPuppet, w.Name, w.What, w.Fix)
	}
	regMu.RLock()
	f, ok := registry[w.Via]
	regMu.RUnlock()
	if !ok {
		hint := ""
		if w.Via == "wechaty-puppet-service" {
			hint = fmt.Sprintf(": import _ %q in your program", ServicePackage)
		}
		return nil, fmt.Errorf("%w: %q is served by %q, which is not registered%s", ErrNoGoPuppet, w.Name, w.Via, hint)
	}
	p, err := f(cfg)
	if err != nil {
		return nil, fmt.Errorf("puppet: new %q (served by %q): %w (%s is %s: %s)", w.Name, w.Via, err, w.Name, w.What, w.Fix)
	}
	return p, nil
}
