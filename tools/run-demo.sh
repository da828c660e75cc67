#!/bin/sh
# SPDX-License-Identifier: MIT
# run-demo.sh BUILD_DIR - the quick start (`make run`): encrypt a sample
# disk image with `atx image`, verify it, decrypt it, compare with the
# original, then show that a flipped bit is caught and named.
#
#   ATX_DEMO_MB         image size in MiB (default 256)
#   ATX_DEMO_INTEGRITY  none | crc32c | hmac-sha256 (default crc32c)
#   ATX_DEMO_LANES      software worker lanes (default 0 = inline)
#   ATX_DEMO_DIR        where the files go (default: a new dir in /dev/shm or $TMPDIR)
set -eu

BUILD=${1:?usage: run-demo.sh BUILD_DIR}
ATX=$BUILD/atx
MB=${ATX_DEMO_MB:-256}
INTEG=${ATX_DEMO_INTEGRITY:-crc32c}
LANES=${ATX_DEMO_LANES:-0}

die() { echo "run-demo: $*" >&2; exit 1; }

[ -x "$ATX" ] || die "$ATX not built (make all)"
"$ATX" image --help >/dev/null 2>&1 || die "$ATX has no 'image' command yet"
case $MB in ''|*[!0-9]*) die "ATX_DEMO_MB must be a number of MiB" ;; esac
[ "$MB" -gt 0 ] || die "ATX_DEMO_MB must be at least 1"

if [ -n "${ATX_DEMO_DIR:-}" ]; then
	base=$ATX_DEMO_DIR
elif [ -d /dev/shm ] && [ -w /dev/shm ]; then
	base=/dev/shm
else
	base=${TMPDIR:-/tmp}
fi
dir=$(mktemp -d "$base/atx-demo.XXXXXX")
trap 'rm -rf "$dir"' EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "sample image: $MB MiB of pseudo-random data, a random 64-byte key (AES-256-XTS)"
# AES-CTR keystream of zeros: incompressible and much faster than /dev/urandom.
head -c $((MB * 1048576)) /dev/zero |
	openssl enc -aes-128-ctr -nosalt -K 000102030405060708090a0b0c0d0e0f \
		-iv 00000000000000000000000000000000 > "$dir/disk.img"
(umask 077 && head -c 64 /dev/urandom > "$dir/disk.key")
ls -l "$dir/disk.img" "$dir/disk.key" | sed 's/^/   /'

common="--key-file $dir/disk.key --lanes $LANES"

step "atx image encrypt (sector 4096, integrity $INTEG)"
"$ATX" image encrypt -i "$dir/disk.img" -o "$dir/disk.enc" $common \
	--sector-size 4096 --integrity "$INTEG"

step "atx image info"
"$ATX" image info "$dir/disk.enc"

step "atx image verify"
"$ATX" image verify -i "$dir/disk.enc" $common

step "atx image decrypt"
"$ATX" image decrypt -i "$dir/disk.enc" -o "$dir/disk.out" $common

step "compare with the original"
cmp "$dir/disk.img" "$dir/disk.out" || die "decrypted image differs from the original"
echo "   identical"

if [ "$INTEG" != none ] && [ "$MB" -ge 4 ]; then
	step "overwrite one byte of data sector 1000 (4096-byte sectors): verify must name it"
	off=$((1048576 + 1000 * 4096 + 17))
	printf '\377' | dd of="$dir/disk.enc" bs=1 seek=$off conv=notrunc status=none
	set +e
	"$ATX" image verify -i "$dir/disk.enc" $common --quiet
	rc=$?
	"$ATX" image decrypt -i "$dir/disk.enc" -o "$dir/disk.bad" $common --quiet
	rc2=$?
	set -e
	[ $rc -eq 1 ] || die "verify of a damaged image exited $rc, expected 1"
	[ $rc2 -eq 1 ] || die "decrypt of a damaged image exited $rc2, expected 1"
	[ ! -e "$dir/disk.bad" ] || die "decrypt wrote output for a damaged image"
	echo "   verify and decrypt refused it (exit 1), no output written"
fi

step "done: every step passed"
