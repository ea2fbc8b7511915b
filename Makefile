# HAWechaty for Go. `make test` is what CI runs (.ci/run).
GO      ?= go
PKGS    ?= ./...
# Flags for the unit tests' `go test`. Results come from Go's test cache
# when nothing they depend on changed; UNITFLAGS=-count=1 runs them anyway.
UNITFLAGS ?=
# Integration suites add themselves to INTEGRATION from mk/*.mk, and what
# they install (in the background during `make test`) to INTEGRATION_SETUP.
INTEGRATION       :=
INTEGRATION_SETUP :=

-include mk/*.mk

.PHONY: test unit vet tidy-check fmt fmt-check lint bench integration setup

# Every phase, one after the other, while the integration suites' installs
# run in the background; ends with a table of each phase's wall time.
test:
	@mk/test.sh -s "$(INTEGRATION_SETUP)" fmt-check vet lint tidy-check unit $(INTEGRATION)

unit:
	$(GO) test -race $(UNITFLAGS) -timeout 20m $(PKGS)

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

# What the integration suites need, installed (npm packages cached outside
# the clone, see mk/npm-cache.sh).
setup: $(INTEGRATION_SETUP)

integration: $(INTEGRATION)
