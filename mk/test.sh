#!/usr/bin/env bash
# test.sh [-s "SETUP..."] PHASE...
#
# What `make test` runs. The SETUP targets (the integration suites' npm
# installs and Chromium: mostly network and disk) start at once in the
# background, each in its own process group; the PHASEs (make targets) run
# one after the other in the foreground, since each Go phase already uses
# every core. The first phase named integration-* waits for the setup.
# The first failing phase stops the run (with `make -k`, the run goes on).
# At the end, also after a failure or an interrupt, a table gives each
# phase's wall time and result.
set -uo pipefail

make=${MAKE:-make}
setup=()
if [ "${1:-}" = "-s" ]; then
	read -r -a setup <<<"$2"
	shift 2
fi
phases=("$@")

keep_going=false
case " ${MAKEFLAGS:-}" in
" "[a-zA-Z]*k* | *" -k"* | *" --keep-going"*) keep_going=true ;;
esac

logs=$(mktemp -d "${TMPDIR:-/tmp}/hawechaty-test.XXXXXX")
t0=$EPOCHREALTIME
declare -A bgpid
rows=()    # "name|seconds|result"
failed=()

# secs START [END]: seconds between two $EPOCHREALTIME values, one decimal.
secs() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f", b - a }'; }

# Start the setup targets in the background, each in its own session
# (setsid), so that stopping one stops npm or apt-get under it too.
for t in "${setup[@]}"; do
	setsid bash -c 's=$EPOCHREALTIME; "$0" --no-print-directory "$1" >"$2.log" 2>&1; rc=$?
		echo "$rc $s $EPOCHREALTIME" >"$2.status"; exit $rc' "$make" "$t" "$logs/$t" &
	bgpid[$t]=$!
done

# stop_setup: end the setup jobs still running (by their process group)
# and wait for them; an install stopped this way leaves nothing behind
# that a later run would use (mk/npm-cache.sh).
stop_setup() {
	for t in "${!bgpid[@]}"; do
		kill -TERM -- "-${bgpid[$t]}" 2>/dev/null || true
	done
	for t in "${!bgpid[@]}"; do
		wait "${bgpid[$t]}" 2>/dev/null || true
	done
}

# wait_setup: wait for every setup job; a failed one prints its log and
# counts as failed.
setup_done=false
wait_setup() {
	$setup_done && return 0
	setup_done=true
	local t ok=0
	for t in "${setup[@]}"; do
		wait "${bgpid[$t]}" 2>/dev/null
		unset "bgpid[$t]"
		read -r rc s e <"$logs/$t.status" || rc=1
		if [ "$rc" = 0 ]; then
			rows+=("$t (background)|$(secs "$s" "$e")|ok")
		else
			echo "--- $t failed (exit $rc):" >&2
			cat "$logs/$t.log" >&2
			rows+=("$t (background)|$(secs "$s" "$e")|FAILED")
			failed+=("$t")
			ok=1
		fi
	done
	return $ok
}

table() {
	local r name sec res
	echo
	echo "make test: wall time per phase"
	for r in "${rows[@]}"; do
		IFS='|' read -r name sec res <<<"$r"
		printf '  %-38s %8s s  %s\n' "$name" "$sec" "$res"
	done
	printf '  %-38s %8s s\n' "total" "$(secs "$t0")"
	if [ ${#failed[@]} -gt 0 ]; then
		echo "FAILED: ${failed[*]}"
	else
		echo "all phases passed"
	fi
}

interrupted() {
	trap - INT TERM
	stop_setup
	rows+=("(interrupted)|$(secs "$t0")|-")
	failed+=("interrupted")
	table
	rm -rf "$logs"
	exit 130
}
trap interrupted INT TERM

stopped=false
for p in "${phases[@]}"; do
	if $stopped; then
		rows+=("$p|-|not run")
		continue
	fi
	if [[ $p == integration-* ]] && ! wait_setup && ! $keep_going; then
		stopped=true
		rows+=("$p|-|not run")
		continue
	fi
	echo "=== $p"
	s=$EPOCHREALTIME
	if "$make" --no-print-directory "$p"; then
		rows+=("$p|$(secs "$s")|ok")
	else
		rows+=("$p|$(secs "$s")|FAILED")
		failed+=("$p")
		$keep_going || stopped=true
	fi
done

if $setup_done; then
	:
elif $stopped; then
	stop_setup
	for t in "${setup[@]}"; do
		rows+=("$t (background)|-|stopped")
	done
else
	wait_setup
fi

table
rm -rf "$logs"
[ ${#failed[@]} -eq 0 ]
