package mock_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hawechaty/hawechaty/puppet"
	"github.com/hawechaty/hawechaty/puppet/mock"
	"github.com/hawechaty/hawechaty/puppet/puppettest"
)

// TestConformance runs the shared suite against a mock bot, in real time
// with short delays, every feature on.
func TestConformance(t *testing.T) {
	puppettest.Run(t, puppettest.Harness{
		New: func(t *testing.T) puppettest.Subject {
			w, b1, _ := world(t, mock.WithDongDelay(5*time.Millisecond), mock.WithDingDelay(5*time.Millisecond))
			return puppettest.Subject{
				Puppet:           b1,
				HeartbeatContact: w.HeartbeatContact(),
				Room:             "team",
				Contact:          "alice",
				Post: func(conv, text string) error {
					if conv == "" {
						conv = b1.Name()
					}
					_, err := w.Post("alice", conv, text)
					return err
				},
				Delivered: func(to, text string) bool {
					return slices.ContainsFunc(w.Delivered(), func(d mock.Delivery) bool { return d.To == to && d.Text == text })
				},
				Hang: func() { b1.Hang(false) },
				PostMedia: func(conv string, m puppet.Media) error {
					if conv == "" {
						conv = b1.Name()
					}
					_, err := w.PostMedia("alice", conv, m)
					return err
				},
				DeliveredMedia: func(to string, m puppet.Media) bool {
					return slices.ContainsFunc(w.DeliveredMedia(), func(d mock.Delivery) bool { return d.To == to && puppettest.SameMedia(m, *d.Media) })
				},
			}
		},
		Features: puppettest.Features{PuppetDing: true, Inbound: true, Delivery: true, Hang: true, TrySay: true,
			SendMedia:    []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact},
			InboundMedia: []puppet.MediaKind{puppet.MediaImage, puppet.MediaFile, puppet.MediaURL, puppet.MediaContact}},
		Timeout: 10 * time.Second,
	})
}
