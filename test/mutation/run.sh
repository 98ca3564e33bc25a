#!/bin/sh
# The mutation run (npm run test:mutation): each group of stryker.config.mjs in turn, mutated
# code with the fast tests that exercise it. STRYKER_GROUPS picks groups; extra arguments go to
# every run (`npm run test:mutation -- --force` after changing tests). See docs/testing.md.
set -e
for group in ${STRYKER_GROUPS:-chain leases pipeline planning version values engine rank state history find replica claims placement facade watch validate authz}; do
  STRYKER_GROUP=$group npx stryker run "$@"
done
