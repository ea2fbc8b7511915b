#!/usr/bin/env bash
# apt-get.sh ARG...: `apt-get update`, then `apt-get ARG...`, one caller at a
# time: make test starts its setup jobs together, and two apt-get runs at
# once fail on apt's locks (the lists lock has no timeout to wait on).
set -euo pipefail
exec 9>"${TMPDIR:-/tmp}/hawechaty-apt-get.lock"
flock 9
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq -o DPkg::Lock::Timeout=600
apt-get -o DPkg::Lock::Timeout=600 "$@"
