#!/usr/bin/env bash
# release.sh [DIR] — the release archives: a static binary for linux and
# darwin on amd64 and arm64, each packed with LICENSE, NOTICE and README.md
# as billkey_<version>_<os>_<arch>.tar.gz, plus SHA256SUMS. Default DIR: dist/.
# PLATFORMS="linux/amd64 …" builds only those.
set -euo pipefail
cd "$(dirname "$0")/.."
dist=$(realpath -m "${1:-dist}")

export VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
export COMMIT=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
export DATE=${DATE:-$(TZ=UTC git log -1 --date=format-local:%Y-%m-%dT%H:%M:%SZ --format=%cd 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)}

rm -rf "$dist" && mkdir -p "$dist"
for platform in ${PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}; do
  os=${platform%/*} arch=${platform#*/}
  name=billkey_${VERSION}_${os}_${arch}
  stage="$dist/$name"
  mkdir -p "$stage"
  GOOS=$os GOARCH=$arch scripts/build.sh "$stage/billkey"
  cp LICENSE NOTICE README.md "$stage/"
  # Entries in name order, owned by root, dated by the commit: otherwise
  # the directory's order on this file system goes into the archive's bytes.
  tar -C "$dist" --sort=name --owner=0 --group=0 --numeric-owner --mtime="$DATE" -czf "$dist/$name.tar.gz" "$name"
  rm -rf "$stage"
  echo "built $dist/$name.tar.gz"
done
(cd "$dist" && sha256sum ./*.tar.gz | sed 's| \./| |' > SHA256SUMS)
