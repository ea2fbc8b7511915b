# The real Redux DevTools (relay, web UI) and socketcluster-client, pinned
# by integration/devtools/package-lock.json, for the devtools integration tests.
DEVTOOLS_NODE := integration/devtools
INTEGRATION   += integration-devtools

.PHONY: integration-devtools devtools-node devtools-chromium

# npm 11 skips install scripts, so sqlite3 (used by the relay) is built here
# from source against the system Node headers; nothing is downloaded but
# registry packages.
$(DEVTOOLS_NODE)/node_modules/.hawechaty-installed: $(DEVTOOLS_NODE)/package-lock.json
	cd $(DEVTOOLS_NODE) && ELECTRON_SKIP_BINARY_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
	cd $(DEVTOOLS_NODE)/node_modules/sqlite3 && ../.bin/node-gyp rebuild --nodedir="$$(dirname "$$(dirname "$$(command -v node)")")" >/dev/null
	touch $@

devtools-node: $(DEVTOOLS_NODE)/node_modules/.hawechaty-installed

# Debian's chromium, for the web UI test (puppeteer-core drives /usr/bin/chromium).
devtools-chromium:
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

integration-devtools: devtools-node devtools-chromium
	HAWECHATY_DEVTOOLS_NODE=$(CURDIR)/$(DEVTOOLS_NODE) $(GO) test -tags integration -race -count=1 -timeout 15m ./devtools/...
