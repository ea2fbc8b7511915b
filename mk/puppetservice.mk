# The real Wechaty puppet-service server (wechaty-puppet-service,
# wechaty-puppet-mock, wechaty), pinned by
# integration/puppetservice/package-lock.json, for the
# puppet/wechatyservice integration tests.
PUPPETSERVICE_NODE := integration/puppetservice
INTEGRATION        += integration-puppetservice

.PHONY: integration-puppetservice puppetservice-node

# npm ci from the committed lock; redone only when the lock changes.
$(PUPPETSERVICE_NODE)/node_modules/.hawechaty-installed: $(PUPPETSERVICE_NODE)/package-lock.json
	cd $(PUPPETSERVICE_NODE) && npm ci --no-audit --no-fund
	touch $@

puppetservice-node: $(PUPPETSERVICE_NODE)/node_modules/.hawechaty-installed

integration-puppetservice: puppetservice-node
	HAWECHATY_PUPPETSERVICE_NODE=$(CURDIR)/$(PUPPETSERVICE_NODE) $(GO) test -tags integration -race -count=1 -timeout 15m ./puppet/wechatyservice/...
	HAWECHATY_PUPPETSERVICE_NODE=$(CURDIR)/$(PUPPETSERVICE_NODE) $(GO) test -tags integration -race -count=1 -timeout 10m -run 'TestPoolOverTwoRealPuppetServices' .
