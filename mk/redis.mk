# Debian's redis-server, for the cluster suites: the lease scripts against
# the real server, and three replica processes sharing one pool through
# it, with faults (kill -9, SIGSTOP, Redis restarted empty, Redis cut off
# by a proxy), a primary with a real replica (WithReplicaAck's WAIT, a
# replica killed, a failover to it); and redis-tools' redis-cli, which joins three servers into
# a Redis Cluster for the pool's suite on Redis Cluster. The tests start
# their own redis-server on 127.0.0.1 with a free port and a temporary
# directory (cluster/redistest); the suite fails, never skips, when it
# cannot be had.
INTEGRATION       += integration-cluster
INTEGRATION_SETUP += redis-debian

.PHONY: integration-cluster redis-debian

redis-debian:
	@if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then \
		mk/apt-get.sh install -y -qq --no-install-recommends redis-server redis-tools >/dev/null || \
		{ echo "integration-cluster: cannot install Debian's redis-server and redis-tools (apt-get, as root)"; exit 1; }; \
	fi

integration-cluster: redis-debian
	$(GO) test -tags integration -race -count=1 -timeout 10m ./cluster/...
