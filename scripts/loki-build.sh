#!/usr/bin/env bash
# Builds a real Grafana Loki server from its Go module (no download of a
# prebuilt binary) and prints the path of the binary. The binary is cached
# under the Go build cache, so a second run is instant.
#
#   LOKI_VERSION (default v3.7.8), LOKI_PUSH_VERSION (the pkg/push module Loki's
#   go.mod replaces with its local folder).
set -euo pipefail
LOKI_VERSION="${LOKI_VERSION:-v3.7.8}"
LOKI_PUSH_VERSION="${LOKI_PUSH_VERSION:-v0.0.0-20250630054201-94c0ba7b0952}"
cache="$(go env GOCACHE)/codomyrmex-loki"
bin="$cache/loki-$LOKI_VERSION"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
export GOFLAGS=-mod=mod
dir_of() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
src="$(dir_of "github.com/grafana/loki/v3@$LOKI_VERSION")"
push="$(dir_of "github.com/grafana/loki/pkg/push@$LOKI_PUSH_VERSION")"
[ -n "$src" ] && [ -n "$push" ] || { echo "loki-build: module download failed" >&2; exit 1; }
cp -r "$src" "$work/loki"
chmod -R u+w "$work/loki"
rm -rf "$work/loki/pkg/push"
cp -r "$push" "$work/loki/pkg/push"
chmod -R u+w "$work/loki/pkg/push"
( cd "$work/loki" && GOFLAGS=-mod=mod go build -o "$bin.tmp" ./cmd/loki ) >&2
mv "$bin.tmp" "$bin"
echo "$bin"
