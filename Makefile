# HAWechaty for Go. `make test` is what CI runs (.ci/run).
GO      ?= go
PKGS    ?= ./...
# Integration suites add themselves to INTEGRATION from mk/*.mk.
INTEGRATION :=

-include mk/*.mk

.PHONY: test unit vet tidy-check fmt fmt-check lint bench integration

test: fmt-check vet lint tidy-check unit integration

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

tidy-check:
	$(GO) mod tidy -diff

lint:
	$(GO) tool staticcheck $(PKGS)

bench:
	$(GO) run ./internal/benchtable $(PKGS)

integration: $(INTEGRATION)
