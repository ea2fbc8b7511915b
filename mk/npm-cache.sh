#!/usr/bin/env bash
# npm-cache.sh SUITE DIR FILE... [-- CHECK]
#
# Gives DIR (a Node project in the clone, for a test suite) the packages
# that `npm ci` installs from its committed lock, kept in a cache outside
# the clone so that other clones and later runs reuse them:
#
#   ${HAWECHATY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hawechaty}/SUITE-HASH
#
# HASH covers the FILEs (paths relative to DIR: package.json,
# package-lock.json and whatever else npm ci reads, such as a local
# package), DIR/.npmrc when there is one, and this script. A missing entry
# is installed into a temporary directory beside it, checked with CHECK (a
# shell command run there), and only then renamed into place: an
# interrupted install is never reused.
#
# DIR/node_modules becomes a directory of symbolic links, one for each
# entry of the cache entry's node_modules (git already ignores a
# node_modules directory); Node resolves each package from its real path
# in the cache. Entries of SUITE unused for 30 days are removed.
set -euo pipefail

if [ $# -lt 3 ]; then
	echo "usage: $0 SUITE DIR FILE... [-- CHECK]" >&2
	exit 2
fi
suite=$1 dir=$2 self=$(realpath "$0")
shift 2
files=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	files+=("$1")
	shift
done
if [ -f "$dir/.npmrc" ]; then
	files+=(.npmrc)
fi
check=true
if [ $# -gt 0 ]; then
	shift
	check=${*:-true}
fi

root=${HAWECHATY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hawechaty}
mkdir -p "$root"

hash=$(
	cd "$dir"
	for f in "${files[@]}"; do
		printf '%s\n' "$f"
		sha256sum <"$f"
	done
	sha256sum <"$self"
)
hash=$(printf '%s' "$hash" | sha256sum | cut -c1-16)
entry=$root/$suite-$hash

if [ ! -f "$entry/.complete" ]; then
	if [ -e "$entry" ]; then
		# Not ours: entries are renamed into place only once complete.
		echo "npm-cache: removing $entry (incomplete)" >&2
		rm -rf "$entry"
	fi
	# Temporary directories of installs killed over two hours ago.
	find "$root" -maxdepth 1 -name ".$suite-*.tmp*" -mmin +120 -exec rm -rf {} + 2>/dev/null || true

	tmp=$(mktemp -d "$root/.$suite-$hash.tmpXXXXXX")
	chmod 755 "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	for f in "${files[@]}"; do
		mkdir -p "$tmp/$(dirname "$f")"
		cp "$dir/$f" "$tmp/$f"
	done
	echo "npm-cache: installing $suite into $entry"
	start=$(date +%s)
	# Binaries that packages would download from outside the npm registry
	# are not needed by the tests.
	(cd "$tmp" && ELECTRON_SKIP_BINARY_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 \
		npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
	(cd "$tmp" && eval "$check") || {
		echo "npm-cache: $suite: the installed packages fail their check: $check" >&2
		exit 1
	}
	touch "$tmp/.complete"
	if ! mv -T "$tmp" "$entry" 2>/dev/null; then
		# Another install finished first; use it.
		[ -f "$entry/.complete" ] || { echo "npm-cache: cannot rename $tmp to $entry" >&2; exit 1; }
		rm -rf "$tmp"
	fi
	trap - EXIT
	echo "npm-cache: installed $suite in $(($(date +%s) - start)) s"
fi

touch "$entry/.complete" # last used

link=$dir/node_modules
if [ "$(cat "$link/.hawechaty-cache" 2>/dev/null)" != "$entry" ]; then
	# Links to another entry, or a real install left by an older Makefile.
	rm -rf "$link"
	mkdir "$link"
	shopt -s nullglob dotglob
	targets=("$entry"/node_modules/*)
	shopt -u nullglob dotglob
	if [ ${#targets[@]} -gt 0 ]; then
		ln -s "${targets[@]}" "$link/" # one ln for all: hundreds of forks are slow on a loaded machine
	fi
	echo "$entry" >"$link/.hawechaty-cache"
fi

find "$root" -mindepth 2 -maxdepth 2 -path "$root/$suite-*/.complete" -mtime +30 2>/dev/null |
	while read -r old; do
		[ "${old%/.complete}" = "$entry" ] || rm -rf "${old%/.complete}"
	done
