package main

import (
	"fmt"
	"io"
	"time"

	"github.com/hawechaty/hawechaty"
	"github.com/hawechaty/hawechaty/cluster"
)

// redisURL is the -redis flag: the Redis that replicas of the demo share
// (hawechaty.WithCluster). Run the demo in several terminals with the
// same URL: each replica drives the bots whose leases it holds (the
// first one started takes them all; the others stand by), and sends
// through a bot another replica drives are forwarded to it. Stop one
// (Ctrl-C, or kill -9) and watch another take its bots within a lease
// and a retry (3.4 s with the demo's timing). Each replica has a mock
// world of its own, so the delivered counts of one replica's summary
// are its world's.
var redisURL string

// demoTiming is Kubernetes' lease timing divided by 5, to match the
// demo's short heartbeat.
var demoTiming = cluster.Timing{Lease: 3 * time.Second, RenewDeadline: 2 * time.Second, Retry: 400 * time.Millisecond}

// clusterOptions are the pool's options for -redis; none without it.
func clusterOptions(out io.Writer) []hawechaty.Option {
	if redisURL == "" {
		return nil
	}
	fmt.Fprintf(out, "one replica of a pool shared through Redis (lease %v, renew deadline %v, retry %v)\n",
		demoTiming.Lease, demoTiming.RenewDeadline, demoTiming.Retry)
	return []hawechaty.Option{hawechaty.WithCluster(redisURL, cluster.WithTiming(demoTiming))}
}
