#!/bin/sh
# The mutation run (npm run test:mutation): each group of stryker.config.mjs in turn, mutated
# code with the fast tests that exercise it. STRYKER_GROUPS picks groups; extra arguments go to
# every run (`npm run test:mutation -- --force` after changing tests). See docs/testing.md.
#
# MUTATION_NODE=24 installs Node 24 from the npm registry's `node` package once (into
# ${XDG_CACHE_HOME:-~/.cache}/devcompat/node-<version>) and runs the tests under it, in worker
# threads without tsx: about half the time per mutant. MUTATION_NODE=/path/to/node uses that
# binary (Node >= 23.6). Unset, the tests run under the machine's node, as in `npm test`.
set -e
case "${MUTATION_NODE:-}" in
  '' | /*) ;;
  *[!0-9.]*) echo "MUTATION_NODE must be a major version (24) or a path to node; got $MUTATION_NODE" >&2; exit 2 ;;
  *)
    dir="${XDG_CACHE_HOME:-$HOME/.cache}/devcompat/node-$MUTATION_NODE"
    if [ ! -x "$dir/node_modules/.bin/node" ]; then
      echo "mutation: installing node@$MUTATION_NODE into $dir" >&2
      npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node@$MUTATION_NODE" >&2
    fi
    MUTATION_NODE="$dir/node_modules/.bin/node"
    ;;
esac
export MUTATION_NODE
for group in ${STRYKER_GROUPS:-chain leases pipeline planning version values engine rank state history find replica claims placement facade model watch validate authz stateload entrytext}; do
  STRYKER_GROUP=$group npx stryker run "$@"
done
