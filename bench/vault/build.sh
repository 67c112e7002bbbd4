#!/usr/bin/env bash
# Builds the "through a Vault-like host" bench layer's Go programs into <out-dir>: host (the Vault-like load
# generator) and peer (the Go plugin peer). test/gohost/build.sh makes the GOPATH tree with the Go code for
# Vault's messages generated from proto/ (and builds the test host on the way); both programs are then built
# in that tree against Debian's go-plugin and grpc-go, offline.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
bash "$root/test/gohost/build.sh" "$out" >/dev/null
gopath="$out/gopath"
for prog in host peer; do
  rm -rf "$gopath/src/bench$prog"
  mkdir -p "$gopath/src/bench$prog"
  cp "$here/$prog"/*.go "$gopath/src/bench$prog/"
  (cd "$gopath/src/bench$prog" && GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS= \
    GOCACHE="${GOCACHE:-$out/gocache}" go build -o "$out/$prog" .)
done
echo "$out"
