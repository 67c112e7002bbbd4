#!/usr/bin/env bash
# Builds the go-plugin test host into <out-dir>/gohost, in GOPATH mode against Debian's Go tree
# (/usr/share/gocode: go-plugin 1.0.1, grpc-go 1.33, golang/protobuf 1.3). Go code for Vault's messages is
# generated from this repository's proto/ into <out-dir>/gopath; nothing generated is written to the repository.
# Needs: golang-go golang-github-hashicorp-go-plugin-dev golang-google-grpc-dev protobuf-compiler protoc-gen-go-1-3
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$(mkdir -p "$1" && cd "$1" && pwd)"
gopath="$out/gopath"
rm -rf "$gopath" "$out/gen"
mkdir -p "$gopath/src/gohost" "$out/gen"

# protoc-gen-go 1.3 (APIv1, the generation golang/protobuf 1.3 and grpc 1.33 expect) with its grpc plugin.
# Vault's packages are mapped to gohostgen/*; google's well-known types to golang/protobuf 1.3's ptypes.
map="Mgoogle/protobuf/struct.proto=github.com/golang/protobuf/ptypes/struct"
map+=",Mgoogle/protobuf/timestamp.proto=github.com/golang/protobuf/ptypes/timestamp"
map+=",Mgoogle/protobuf/empty.proto=github.com/golang/protobuf/ptypes/empty"
for f in sdk/logical/identity.proto sdk/logical/event.proto sdk/logical/plugin.proto sdk/logical/version.proto; do
  map+=",M$f=gohostgen/logical"
done
map+=",Msdk/plugin/pb/backend.proto=gohostgen/pb,Msdk/helper/pluginutil/multiplexing.proto=gohostgen/pluginutil"
cd "$root/proto"
protoc -I . -I /usr/include --go_out="plugins=grpc,paths=source_relative,$map:$out/gen" \
  sdk/logical/*.proto
protoc -I . -I /usr/include --go_out="plugins=grpc,paths=source_relative,$map:$out/gen" \
  sdk/plugin/pb/backend.proto
protoc -I . -I /usr/include --go_out="plugins=grpc,paths=source_relative,$map:$out/gen" \
  sdk/helper/pluginutil/multiplexing.proto
mkdir -p "$gopath/src/gohostgen"
cp -r "$out/gen/sdk/logical" "$gopath/src/gohostgen/logical"
cp -r "$out/gen/sdk/plugin/pb" "$gopath/src/gohostgen/pb"
cp -r "$out/gen/sdk/helper/pluginutil" "$gopath/src/gohostgen/pluginutil"
cp "$here"/*.go "$gopath/src/gohost/"

cd "$gopath/src/gohost"
GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOFLAGS= GOCACHE="${GOCACHE:-$out/gocache}" \
  go build -o "$out/gohost" .
echo "$out/gohost"
