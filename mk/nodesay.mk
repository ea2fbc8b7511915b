# A Node Wechaty bot (wechaty 1.20.2) on its mock puppet
# (wechaty-puppet-mock), pinned by integration/nodesay/package-lock.json:
# the baseline that Pool.Say's speed is compared with. say.mjs times the
# bot's says; integration-nodesay checks that it runs (few says);
# bench-say runs BenchmarkSay and BenchmarkNodeWechatySay in one go test
# and prints Node's and Go's time per say side by side.
NODESAY_NODE      := integration/nodesay
INTEGRATION       += integration-nodesay
INTEGRATION_SETUP += nodesay-node
# go test -benchtime and -count for bench-say.
SAY_BENCHTIME     ?= 1s
SAY_COUNT         ?= 1

.PHONY: integration-nodesay nodesay-node bench-say

# npm ci into the cache outside the clone (mk/npm-cache.sh).
nodesay-node:
	@mk/npm-cache.sh nodesay $(NODESAY_NODE) package.json package-lock.json -- \
		"node -e \"import('wechaty').then(()=>import('wechaty-puppet-mock'))\""

integration-nodesay: nodesay-node
	HAWECHATY_NODESAY_NODE=$(CURDIR)/$(NODESAY_NODE) $(GO) test -tags integration -race -count=1 -timeout 5m -run 'TestNodeWechatySay' .

# One go test runs both benchmarks (internal/benchtable); "faster" is how
# many times faster than the Node bot each is, in wall and CPU time. The
# load average before and after tells how busy the machine was.
bench-say: nodesay-node
	@echo "load average before: $$(cut -d' ' -f1-3 /proc/loadavg)"
	HAWECHATY_NODESAY_NODE=$(CURDIR)/$(NODESAY_NODE) $(GO) run ./internal/benchtable -tags integration \
		-bench '^(BenchmarkNodeWechatySay|BenchmarkSay)$$' -benchtime $(SAY_BENCHTIME) -count $(SAY_COUNT) \
		-vs BenchmarkNodeWechatySay .
	@echo "load average after: $$(cut -d' ' -f1-3 /proc/loadavg)"
