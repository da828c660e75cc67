#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build DPDK 22.11's vhost_crypto example (the third-party vhost-user
# virtio-crypto backend atx is tested against) in a scratch folder and print
# the path of the binary.  Its source ships in Debian's dpdk-doc package
# under /usr/share/dpdk/examples/vhost_crypto; it is DPDK's code, never ours
# to commit, so it is copied under build/ (ignored by git) at test time.
# Building takes ~1 s against pkg-config libdpdk (libdpdk-dev).
#
#   tests/dpdk/build-vhost-crypto.sh        -> prints .../build/dpdk/vhost-crypto
#
# Environment: ATX_DPDK_EXAMPLE (default /usr/share/dpdk/examples/vhost_crypto),
# ATX_DPDK_BUILD_DIR (default <repo>/build/dpdk).
# Exit status 77 (automake's "skipped") when DPDK's files are not installed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
example=${ATX_DPDK_EXAMPLE:-/usr/share/dpdk/examples/vhost_crypto}
out=${ATX_DPDK_BUILD_DIR:-$root/build/dpdk}
bin=$out/vhost-crypto

if [ ! -f "$example/main.c" ] || ! command -v pkg-config >/dev/null 2>&1 ||
   ! pkg-config --exists libdpdk; then
	echo "DPDK not installed (need libdpdk-dev, dpdk-doc and pkg-config)" >&2
	exit 77
fi

mkdir -p "$out"
# One builder at a time; a second waits and then finds the binary current.
exec 9>"$out/.lock"
flock -w 120 9

# Rebuild only when the example or libdpdk changed since the last build.
stamp="$(pkg-config --modversion libdpdk) $(cat "$example"/*.c "$example"/Makefile | md5sum | cut -d' ' -f1)"
if [ -x "$bin" ] && [ "$(cat "$out/stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$bin"
	exit 0
fi

scratch=$(mktemp -d "$out/src.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
cp -r "$example"/. "$scratch/"
if ! make -s -C "$scratch" >"$scratch/make.log" 2>&1; then
	cat "$scratch/make.log" >&2
	echo "building DPDK's vhost_crypto example failed" >&2
	exit 1
fi
# build/vhost-crypto is a symlink to the shared-library build
cp -L "$scratch/build/vhost-crypto" "$bin.tmp"
mv -f "$bin.tmp" "$bin"
echo "$stamp" >"$out/stamp"
echo "$bin"
