#!/usr/bin/env bash
# Fails when src/gen/ is not what `npm run proto` generates from proto/ (stale or hand-edited output).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
npx --no-install buf generate -o "$tmp"
if ! diff -r -u src/gen "$tmp/src/gen"; then
  echo "proto:check: src/gen is stale; run 'npm run proto' and commit the result" >&2
  exit 1
fi
echo "proto:check: src/gen matches proto/"
