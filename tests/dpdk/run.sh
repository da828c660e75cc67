#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run atx's vhost-user frontend against a fresh DPDK vhost_crypto backend,
# outside pytest:
#
#   tests/dpdk/run.sh                  the whole check (rfc3602,cbc,chain,limits,depth)
#   tests/dpdk/run.sh cbc,chain        some of the cases of tests/harness/test_dpdk.py
#   tests/dpdk/run.sh -- CMD ARGS...   any command, with ATX_DPDK_SOCK=<socket>
#                                      (e.g. -- build/release/atx info --engines virtio:\$ATX_DPDK_SOCK)
#
# The backend gets its own socket and --file-prefix in a temporary folder,
# is waited for at most 10 s, and is killed on exit; the frontend gets
# ATX_DPDK_TIMEOUT seconds (default 30), because DPDK never completes a
# request it cannot parse.  The backend's log is printed when anything
# fails, or always with V=1.  Uses build/release (ATX_BUILD to change).
# Exit status: the frontend's; 77 when DPDK is not installed; 124 on timeout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
timeout_s=${ATX_DPDK_TIMEOUT:-30}
export ATX_BUILD=${ATX_BUILD:-$root/build/release}

bin=$("$here/build-vhost-crypto.sh")

dir=$(mktemp -d "${TMPDIR:-/tmp}/atx-dpdk-run.XXXXXX")
sock=$dir/vc.sock
log=$dir/backend.log
prefix="atxdpdkrun$$"
pid=
cleanup() {
	local rc=$?
	if [ -n "$pid" ]; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ "$rc" -ne 0 ] || [ "${V:-0}" = 1 ]; then
		echo "--- vhost-crypto log ($log)" >&2
		cat "$log" >&2 || true
	fi
	rm -rf "$dir"
	rm -rf "/var/run/dpdk/$prefix" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix" 2>/dev/null || true
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$bin" -l 0,1 --no-huge -m 512 --no-pci --vdev crypto_openssl0 --file-prefix "$prefix" \
	-- --config "(1,0,0)" --socket-file "1,$sock" </dev/null >"$log" 2>&1 &
pid=$!

# the socket appears ~150 ms after start
for _ in $(seq 1 500); do
	[ -S "$sock" ] && break
	kill -0 "$pid" 2>/dev/null || { echo "vhost-crypto exited before listening" >&2; exit 1; }
	sleep 0.02
done
[ -S "$sock" ] || { echo "vhost-crypto: no socket after 10 s" >&2; exit 1; }

export ATX_DPDK_SOCK=$sock
if [ "${1:-}" = "--" ]; then
	shift
	timeout -k 2 "$timeout_s" "$@"
else
	timeout -k 2 "$timeout_s" /usr/bin/python3 "$root/tests/harness/test_dpdk.py" --child \
		"${1:-rfc3602,cbc,chain,limits,depth}" "$sock"
fi
