# RxJS 7 and its TestScheduler, pinned by rx/testdata/rxjs/package-lock.json.
# reference.mjs prints the timelines that the rx tests (rx/rxjs_test.go)
# compare against; integration-rxjs prints them again and fails when they
# differ from the committed golden.json, or when npm or node fail.
RXJS_NODE   := rx/testdata/rxjs
INTEGRATION += integration-rxjs

.PHONY: integration-rxjs rxjs-node

# npm ci from the committed lock; redone only when the lock changes.
$(RXJS_NODE)/node_modules/.hawechaty-installed: $(RXJS_NODE)/package-lock.json
	cd $(RXJS_NODE) && npm ci --no-audit --no-fund
	touch $@

rxjs-node: $(RXJS_NODE)/node_modules/.hawechaty-installed

integration-rxjs: rxjs-node
	cd $(RXJS_NODE) && out=$$(node reference.mjs) && printf '%s\n' "$$out" | diff -u golden.json - || \
		{ echo "integration-rxjs: node failed, or RxJS's answers differ from $(RXJS_NODE)/golden.json (regenerate: cd $(RXJS_NODE) && node reference.mjs > golden.json)"; exit 1; }
