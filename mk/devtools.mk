# The real Redux DevTools (relay, web UI) and socketcluster-client, pinned
# by integration/devtools/package-lock.json, for the devtools integration
# tests, and Debian's Chromium for the web UI test.
DEVTOOLS_NODE     := integration/devtools
INTEGRATION       += integration-devtools
INTEGRATION_SETUP += devtools-node devtools-chromium

.PHONY: integration-devtools devtools-node devtools-chromium

# npm ci into the cache outside the clone (mk/npm-cache.sh), from the npm
# registry alone. The relay's sqlite3 is sqlite3-prebuilt (see its
# index.cjs): its binary comes in the npm tarball, so nothing compiles. The
# check opens a database through knex as the relay does.
devtools-node:
	@mk/npm-cache.sh devtools $(DEVTOOLS_NODE) package.json package-lock.json \
		sqlite3-prebuilt/package.json sqlite3-prebuilt/index.cjs -- \
		"node -e \"const k=require('knex')({client:'sqlite3',connection:{filename:':memory:'},useNullAsDefault:true}); k.raw('select 1').then(()=>k.destroy())\""

# Debian's chromium, for the web UI test (puppeteer-core drives /usr/bin/chromium).
devtools-chromium:
	@test -x /usr/bin/chromium || mk/apt-get.sh install -y -qq chromium >/dev/null

integration-devtools: devtools-node devtools-chromium
	HAWECHATY_DEVTOOLS_NODE=$(CURDIR)/$(DEVTOOLS_NODE) $(GO) test -tags integration -race -count=1 -timeout 15m ./devtools/...
