#!/usr/bin/env bash
# Runs the npm-client compatibility suites against a RUNNING Billkey.
#   BILLKEY_URL (default http://127.0.0.1:8080), IMP_KEY, IMP_SECRET (required)
#   BILLKEY_COMPAT_SCHEDULES=1 also runs schedule.test.js (skipped otherwise)
#   BILLKEY_COMPAT_INSTALL=1 installs the pinned clients (npm ci) if missing;
#   without it a missing node_modules/ is an error, never a silent download.
# Extra arguments are passed to `node --test` (e.g. --test-name-pattern=cancel).
set -euo pipefail
cd "$(dirname "$0")"

: "${IMP_KEY:?IMP_KEY must be set}"
: "${IMP_SECRET:?IMP_SECRET must be set}"
export BILLKEY_URL="${BILLKEY_URL:-http://127.0.0.1:8080}"

if [ ! -d node_modules ]; then
  if [ "${BILLKEY_COMPAT_INSTALL:-}" != 1 ]; then
    echo "compat/npm: the npm clients are not installed: run 'npm ci' in compat/npm" >&2
    echo "(or BILLKEY_COMPAT_INSTALL=1 $0, or .ci/run, which installs them)" >&2
    exit 3
  fi
  npm ci --no-audit --no-fund
fi

exec node --test "$@" \
  iamporter.test.js \
  rest-client-nodejs.test.js \
  iamport.test.js \
  schedule.test.js
