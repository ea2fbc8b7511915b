# HAWechaty for Go. `make test` is what CI runs (.ci/run).
GO      ?= go
PKGS    ?= ./...
# Integration suites add themselves to INTEGRATION from mk/*.mk.
INTEGRATION :=

-include mk/*.mk

.PHONY: test unit vet tidy-check fmt fmt-check lint bench integration

test: fmt-check vet tidy-check unit integration

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check:
	@cp go.mod /tmp/hawechaty.go.mod.bak; cp go.sum /tmp/hawechaty.go.sum.bak; \
	$(GO) mod tidy; \
	if ! git diff --quiet -- go.mod go.sum; then echo "go mod tidy changed go.mod/go.sum:"; git --no-pager diff -- go.mod go.sum; \
	  cp /tmp/hawechaty.go.mod.bak go.mod; cp /tmp/hawechaty.go.sum.bak go.sum; exit 1; fi

lint:
	$(GO) tool staticcheck $(PKGS)

bench:
	$(GO) run ./internal/benchtable -- $(PKGS)

integration: $(INTEGRATION)
