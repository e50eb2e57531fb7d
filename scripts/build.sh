#!/usr/bin/env bash
# build.sh OUT — one static Billkey binary (CGO off, SQLite is pure Go) for
# $GOOS/$GOARCH (default: this machine), with version, commit and build date
# stamped so that `billkey version` names the build. The Dockerfile and
# release.sh both build through this script.
#
# VERSION, COMMIT and DATE default to `git describe`, the commit and the
# commit's time (reproducible: the same commit builds the same binary).
set -euo pipefail
out=${1:?usage: build.sh OUT}
cd "$(dirname "$0")/.."

if [ -z "${VERSION:-}" ]; then VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev); fi
if [ -z "${COMMIT:-}" ]; then COMMIT=$(git rev-parse HEAD 2>/dev/null || echo unknown); fi
if [ -z "${DATE:-}" ]; then
  DATE=$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
fi

pkg=github.com/billkey/billkey/internal/buildinfo
# timetzdata: merchants' time zones (Asia/Seoul by default) resolve in a
# scratch image without /usr/share/zoneinfo.
CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags timetzdata \
  -ldflags "-s -w -X $pkg.Version=$VERSION -X $pkg.Commit=$COMMIT -X $pkg.Date=$DATE" \
  -o "$out" ./cmd/billkey
