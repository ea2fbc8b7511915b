#!/usr/bin/env bash
# test.sh [-s "SETUP..."] PHASE...
#
# What `make test` runs, on a 2-core machine:
#
#   - the SETUP targets (the integration suites' npm installs and Chromium:
#     network and disk, little CPU) start at once in the background;
#   - the PHASEs (make targets) run one after the other, since each Go
#     phase already keeps both cores busy;
#   - the integration-* phases, which mostly wait on their servers, then
#     run side by side, once the setup is done; the output of each is
#     printed whole when it ends.
#
# Every background job runs in its own session (setsid), so that stopping
# it stops npm, apt-get or a test server under it too. The first failure
# stops the run (with `make -k`, the run goes on). At the end, also after a
# failure or an interrupt, a table gives each phase's wall time and result.
set -uo pipefail

make=${MAKE:-make}
setup=()
if [ "${1:-}" = "-s" ]; then
	read -r -a setup <<<"$2"
	shift 2
fi
serial=() parallel=()
for p in "$@"; do
	case $p in
	integration-*) parallel+=("$p") ;;
	*) serial+=("$p") ;;
	esac
done

# make -k: MAKEFLAGS starts with the one-letter flags, k among them.
keep_going=false
if [[ ${MAKEFLAGS:-} =~ ^[a-zA-Z]*k ]]; then
	keep_going=true
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/hawechaty-test.XXXXXX")
t0=$EPOCHREALTIME
declare -A pid # background jobs still to be waited for
current=""     # the foreground phase, while it runs
rows=()        # "name|time|result"
failed=()

# secs START [END]: the time between two $EPOCHREALTIME values.
secs() { awk -v a="$1" -v b="${2:-$EPOCHREALTIME}" 'BEGIN { printf "%.1f s", b - a }'; }

# launch TARGET: make TARGET in the background, in its own session, its
# output in $logs/TARGET.log, its exit code and times in $logs/TARGET.status.
launch() {
	setsid bash -c 's=$EPOCHREALTIME; "$0" --no-print-directory "$1" >"$2.log" 2>&1; rc=$?
		echo "$rc $s $EPOCHREALTIME" >"$2.status"; exit $rc' "$make" "$1" "$logs/$1" </dev/null &
	pid[$1]=$!
}

# collect TARGET [LABEL [PRINT]]: wait for TARGET's job and add its row;
# PRINT=always prints its output, else only when it failed. False if it
# failed.
collect() {
	local t=$1 label=${2:-$1} print=${3:-} rc s e
	wait "${pid[$t]}" 2>/dev/null
	unset "pid[$t]"
	if ! read -r rc s e 2>/dev/null <"$logs/$t.status"; then
		rows+=("$label|-|stopped")
		return 1
	fi
	if [ "$rc" = 0 ]; then
		rows+=("$label|$(secs "$s" "$e")|ok")
		[ "$print" = always ] && { echo "=== $t"; cat "$logs/$t.log"; }
		return 0
	fi
	rows+=("$label|$(secs "$s" "$e")|FAILED")
	failed+=("$t")
	echo "=== $t FAILED (exit $rc)"
	cat "$logs/$t.log"
	return 1
}

# stop_all: end every background job still running: SIGTERM, then, for
# what still runs 10 s later (npm ci finishes its work first), SIGKILL.
stop_all() {
	local t i alive
	for t in "${!pid[@]}"; do
		kill -TERM -- "-${pid[$t]}" 2>/dev/null || true
	done
	for ((i = 0; i < 20; i++)); do
		alive=false
		for t in "${!pid[@]}"; do
			kill -0 -- "-${pid[$t]}" 2>/dev/null && alive=true
		done
		$alive || return 0
		sleep 0.5
	done
	for t in "${!pid[@]}"; do
		kill -KILL -- "-${pid[$t]}" 2>/dev/null || true
	done
}

# collect_setup: wait for the setup jobs; false if one failed.
collect_setup() {
	local t ok=0
	for t in "${setup[@]}"; do
		[ -n "${pid[$t]:-}" ] || continue
		collect "$t" "$t (background)" || ok=1
	done
	return $ok
}

table() {
	local r name sec res
	echo
	echo "make test: wall time per phase"
	for r in "${rows[@]}"; do
		IFS='|' read -r name sec res <<<"$r"
		printf '  %-36s %9s  %s\n' "$name" "$sec" "$res"
	done
	printf '  %-36s %9s\n' "total" "$(secs "$t0")"
	if [ ${#failed[@]} -gt 0 ]; then
		echo "FAILED: ${failed[*]}"
	else
		echo "all phases passed"
	fi
}

finish() {
	table
	rm -rf "$logs"
	[ ${#failed[@]} -eq 0 ]
	exit
}

interrupted() {
	trap - INT TERM
	if [ -n "$current" ]; then
		rows+=("$current|$(secs "$s")|interrupted")
	fi
	stop_all
	local t
	for t in "${!pid[@]}"; do
		case " ${setup[*]} " in
		*" $t "*) collect "$t" "$t (background)" >/dev/null ;;
		*) collect "$t" >/dev/null ;;
		esac
	done
	failed+=("interrupted")
	table
	rm -rf "$logs"
	exit 130
}
trap interrupted INT TERM

for t in "${setup[@]}"; do
	launch "$t"
done

stopped=false
for p in "${serial[@]}"; do
	if $stopped; then
		rows+=("$p|-|not run")
		continue
	fi
	echo "=== $p"
	s=$EPOCHREALTIME
	current=$p
	if "$make" --no-print-directory "$p"; then
		rows+=("$p|$(secs "$s")|ok")
	else
		rows+=("$p|$(secs "$s")|FAILED")
		failed+=("$p")
		$keep_going || stopped=true
	fi
	current=""
done

if $stopped; then
	stop_all
	collect_setup >/dev/null
	for p in "${parallel[@]}"; do
		rows+=("$p|-|not run")
	done
	finish
fi

if [ ${#setup[@]} -gt 0 ]; then
	echo "=== waiting for the background setup: ${setup[*]}"
fi
if ! collect_setup && ! $keep_going; then
	for p in "${parallel[@]}"; do
		rows+=("$p|-|not run")
	done
	finish
fi

if [ ${#parallel[@]} -gt 0 ]; then
	echo "=== side by side: ${parallel[*]}"
fi
for p in "${parallel[@]}"; do
	launch "$p"
done
for p in "${parallel[@]}"; do
	collect "$p" "$p" always
done
finish
