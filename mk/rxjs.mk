# RxJS 7 and its TestScheduler, pinned by rx/testdata/rxjs/package-lock.json.
# reference.mjs prints the timelines that the rx tests (rx/rxjs_test.go)
# compare against; integration-rxjs prints them again and fails when they
# differ from the committed golden.json, or when npm or node fail.
RXJS_NODE         := rx/testdata/rxjs
INTEGRATION       += integration-rxjs
INTEGRATION_SETUP += rxjs-node

.PHONY: integration-rxjs rxjs-node

# npm ci into the cache outside the clone (mk/npm-cache.sh).
rxjs-node:
	@mk/npm-cache.sh rxjs $(RXJS_NODE) package.json package-lock.json -- \
		"node -e \"import('rxjs/testing')\""

integration-rxjs: rxjs-node
	cd $(RXJS_NODE) && out=$$(node reference.mjs) && printf '%s\n' "$$out" | diff -u golden.json - || \
		{ echo "integration-rxjs: node failed, or RxJS's answers differ from $(RXJS_NODE)/golden.json (regenerate: cd $(RXJS_NODE) && node reference.mjs > golden.json)"; exit 1; }
