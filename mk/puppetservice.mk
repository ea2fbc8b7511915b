# The real Wechaty puppet-service server (wechaty-puppet-service,
# wechaty-puppet-mock, wechaty), pinned by
# integration/puppetservice/package-lock.json, for the
# puppet/wechatyservice integration tests and the pool over two real
# services. The two suites mostly wait on their servers: make test runs
# them side by side.
PUPPETSERVICE_NODE := integration/puppetservice
INTEGRATION        += integration-puppetservice integration-pool
INTEGRATION_SETUP  += puppetservice-node

.PHONY: integration-puppetservice integration-pool puppetservice-node

# npm ci into the cache outside the clone (mk/npm-cache.sh).
puppetservice-node:
	@mk/npm-cache.sh puppetservice $(PUPPETSERVICE_NODE) package.json package-lock.json -- \
		"node -e \"import('wechaty-puppet-service').then(()=>import('wechaty-puppet-mock'))\""

integration-puppetservice: puppetservice-node
	HAWECHATY_PUPPETSERVICE_NODE=$(CURDIR)/$(PUPPETSERVICE_NODE) $(GO) test -tags integration -race -count=1 -timeout 15m ./puppet/wechatyservice/...

integration-pool: puppetservice-node
	HAWECHATY_PUPPETSERVICE_NODE=$(CURDIR)/$(PUPPETSERVICE_NODE) $(GO) test -tags integration -race -count=1 -timeout 10m -run 'TestPoolOverTwoRealPuppetServices|TestPoolMediaOverRealPuppetServices' .
