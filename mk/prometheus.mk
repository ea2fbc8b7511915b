# Debian's prometheus (and its promtool), for the ops integration suite:
# a real Prometheus, started by the test on 127.0.0.1 with a free port and
# a temporary directory, scrapes a running pool served by ops.Handler.
# Installed with apt-get when missing (no recommends: no node exporter);
# the suite fails, never skips, when it cannot be had.
INTEGRATION       += integration-prometheus
INTEGRATION_SETUP += prometheus-debian

.PHONY: integration-prometheus prometheus-debian

prometheus-debian:
	@if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then \
		mk/apt-get.sh install -y -qq --no-install-recommends prometheus >/dev/null || \
		{ echo "integration-prometheus: cannot install Debian's prometheus (apt-get, as root)"; exit 1; }; \
	fi

integration-prometheus: prometheus-debian
	$(GO) test -tags integration -race -count=1 -timeout 5m -run 'TestPrometheus' ./ops/...
