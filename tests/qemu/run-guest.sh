#!/bin/bash
# SPDX-License-Identifier: MIT
#
# run-guest.sh - atx's virtio-pci transport and virtio-crypto engine
# against QEMU's virtio-crypto-pci (builtin backend) in a throw-away
# guest.  Builds, at test time and from installed packages only:
#   - tests/qemu/guest_test.c linked with build/<variant>/libatx.a, and
#     the atx program (`atx info --engine virtio:pci:BDF` in the guest)
#     (libisal has no static archive in Debian, so the program is linked
#     dynamically and its shared libraries + ld-linux go into the image),
#   - an initramfs: busybox-static, the kernel's uio + uio_pci_generic
#     modules, tests/qemu/init, the program;
# then boots /boot/vmlinuz-* under TCG (KVM hangs on these hosts,
# shared/INTEROP.md), and parses the "ATXQ ..." lines of the serial
# console.
#
# Exit: 0 every check passed; 1 a check failed, or the guest did not
# finish in time; 77 SKIPPED - this machine lacks something the guest
# needs (qemu-system-x86, linux-image-amd64, busybox-static, a C
# toolchain).  77 is never a pass.
#
# Environment: ATX_QEMU_TIMEOUT (seconds, default 50), ATX_QEMU_KEEP=1
# keeps the work directory, ATX_QEMU_EXTRA adds QEMU options (e.g.
# "-trace virtqueue_pop"), ATX_QEMU_BIN (qemu-system-x86_64), VARIANT
# (release), ATX_QEMU_LOG=<file> copies the console log there.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VARIANT=${VARIANT:-release}
TIMEOUT=${ATX_QEMU_TIMEOUT:-50}

skip() {
	echo "#####################################################################" >&2
	echo "### SKIPPED: QEMU virtio-crypto-pci guest test cannot run here:" >&2
	echo "###   $*" >&2
	echo "### (install: apt-get install -y qemu-system-x86 linux-image-amd64 busybox-static," >&2
	echo "###  or ./configure --install-deps).  This is NOT a pass." >&2
	echo "#####################################################################" >&2
	exit 77
}

die() {
	echo "run-guest.sh: $*" >&2
	exit 1
}

# ---- what the guest needs from this machine ----
QEMU=$(command -v "${ATX_QEMU_BIN:-qemu-system-x86_64}") ||
	skip "${ATX_QEMU_BIN:-qemu-system-x86_64} not found (package qemu-system-x86)"
KERNEL=$(ls -1 /boot/vmlinuz-* 2>/dev/null | sort -V | tail -n 1)
[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || skip "no readable /boot/vmlinuz-* (package linux-image-amd64)"
KVER=${KERNEL#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER
BUSYBOX=
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX=$b; break; fi
done
[ -n "$BUSYBOX" ] || skip "no statically linked busybox (package busybox-static)"
for m in uio uio_pci_generic; do
	f=$(find "$MODDIR/kernel/drivers/uio" -name "$m.ko*" 2>/dev/null | head -n 1)
	[ -n "$f" ] || skip "kernel module $m missing under $MODDIR (package linux-image-amd64)"
done
command -v cpio >/dev/null || skip "cpio not found"
command -v gzip >/dev/null || skip "gzip not found"
command -v gcc >/dev/null || skip "gcc not found"
command -v make >/dev/null || skip "make not found"

WORK=$(mktemp -d /tmp/atx-qemu.XXXXXX) || die "mktemp failed"
cleanup() {
	if [ "${ATX_QEMU_KEEP:-0}" = 1 ]; then
		echo "run-guest.sh: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# ---- the program ----
make -C "$ROOT" -s -j2 BUILD="$VARIANT" lib "build/$VARIANT/atx" >"$WORK/make.log" 2>&1 ||
	{ cat "$WORK/make.log" >&2; die "library build failed"; }
LIBA=$ROOT/build/$VARIANT/libatx.a
[ -f "$LIBA" ] || die "$LIBA not built"
EXTRA=
grep -q '^HAVE_IPSEC_MB := 1' "$ROOT/config.mk" 2>/dev/null && EXTRA=-lIPSec_MB
CFG=$(sed -n 's/^CONFIG_CFLAGS := //p' "$ROOT/config.mk" 2>/dev/null)
# a sanitizer variant's objects need its runtime (copied in with the other .so files)
case "$VARIANT" in
asan) CFG="$CFG -fsanitize=address,undefined" ;;
tsan) CFG="$CFG -fsanitize=thread" ;;
esac
# -march: -cpu max in the guest has what the build machine has
gcc -std=gnu11 -O1 -g -D_GNU_SOURCE $CFG -I"$ROOT/include" -I"$ROOT/src" -I"$ROOT/engines" \
	-Wall -Wextra -Wno-unused-parameter -o "$WORK/guest_test" "$HERE/guest_test.c" \
	"$LIBA" -luring -lcrypto -lisal -lpthread $EXTRA >"$WORK/cc.log" 2>&1 ||
	{ cat "$WORK/cc.log" >&2; die "guest_test build failed"; }

# ---- the initramfs ----
R=$WORK/root
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,lib/modules,dev/hugepages} || die "mkdir"
cp "$BUSYBOX" "$R/bin/busybox" || die "copy busybox"
for a in sh mount umount insmod rmmod readlink basename echo cat ls sleep poweroff mkdir grep sed dmesg; do
	ln -sf busybox "$R/bin/$a"
done
for m in uio uio_pci_generic; do
	f=$(find "$MODDIR/kernel/drivers/uio" -name "$m.ko*" | head -n 1)
	case "$f" in
	*.ko) cp "$f" "$R/lib/modules/$m.ko" ;;
	*.ko.xz) xz -dc "$f" >"$R/lib/modules/$m.ko" || skip "cannot decompress $f (xz)" ;;
	*.ko.zst) zstd -qdc "$f" >"$R/lib/modules/$m.ko" || skip "cannot decompress $f (zstd)" ;;
	*) skip "unknown module format: $f" ;;
	esac
done
cp "$WORK/guest_test" "$R/bin/guest_test"
cp "$ROOT/build/$VARIANT/atx" "$R/bin/atx" || die "no atx program"
# shared libraries of the programs, at the paths the loader expects
ldd "$WORK/guest_test" "$R/bin/atx" | awk '/=> \//{print $3} /^\s*\/lib/{print $1}' | sort -u |
while read -r so; do
	mkdir -p "$R$(dirname "$so")"
	cp -L "$so" "$R$so" || exit 1
done || die "copying shared libraries failed"
# the loader path in the ELF interpreter (/lib64/ld-linux-x86-64.so.2)
INTERP=$(readelf -l "$WORK/guest_test" | sed -n 's/.*interpreter: \(.*\)]/\1/p')
if [ -n "$INTERP" ] && [ ! -e "$R$INTERP" ]; then
	mkdir -p "$R$(dirname "$INTERP")"
	cp -L "$INTERP" "$R$INTERP" || die "copy $INTERP"
fi
cp "$HERE/init" "$R/init" && chmod +x "$R/init" || die "copy init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1) >"$WORK/initrd.gz" || die "cpio"

# ---- the guest ----
LOG=$WORK/console.log
START=$(date +%s)
timeout --kill-after=5 "$TIMEOUT" "$QEMU" -accel tcg -cpu max -m 512 -smp 1 -nodefaults \
	-display none -no-reboot -serial stdio \
	-kernel "$KERNEL" -initrd "$WORK/initrd.gz" \
	-append "console=ttyS0 quiet panic=-1 edd=off hugepages=8" \
	-object cryptodev-backend-builtin,id=c0 \
	-device virtio-crypto-pci,cryptodev=c0,disable-legacy=on ${ATX_QEMU_EXTRA:-} \
	</dev/null >"$LOG" 2>&1
RC=$?
ELAPSED=$(( $(date +%s) - START ))
[ -n "${ATX_QEMU_LOG:-}" ] && cp "$LOG" "$ATX_QEMU_LOG"
# the guest's own lines, and QEMU's complaints about the device (virtio_error)
grep -a -E '^(ATXQ|qemu-system|virtio-crypto|atx-init|atx-info)' "$LOG" | tr -d '\r'
echo "run-guest.sh: qemu exit $RC after ${ELAPSED}s"
if [ $RC -eq 124 ] || [ $RC -eq 137 ]; then
	echo "run-guest.sh: FAILED - the guest did not finish within ${TIMEOUT}s; last console lines:" >&2
	tail -n 20 "$LOG" | tr -d '\r' >&2
	exit 1
fi
DONE=$(grep -a -c '^ATXQ DONE' "$LOG")
FAILS=$(grep -a -c '^ATXQ FAIL' "$LOG")
PASSES=$(grep -a -c '^ATXQ PASS' "$LOG")
RUNS=$(sed -n 's/^ATXQ RUNS \([0-9]*\).*/\1/p' "$LOG" | tr -d '\r' | head -n 1)
if [ -z "$RUNS" ] || [ "$DONE" -ne "$RUNS" ]; then
	echo "run-guest.sh: FAILED - ${DONE} 'ATXQ DONE' lines for ${RUNS:-?} runs (a program crashed or never ran); console:" >&2
	tail -n 30 "$LOG" | tr -d '\r' >&2
	exit 1
fi
if [ "$FAILS" -ne 0 ] || [ "$PASSES" -eq 0 ]; then
	echo "run-guest.sh: FAILED - $PASSES passed, $FAILS failed" >&2
	exit 1
fi
echo "run-guest.sh: all $PASSES guest checks passed"
exit 0
