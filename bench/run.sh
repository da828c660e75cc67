#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD_DIR - `make bench`: the standard set of `atx bench`,
# recorded in bench/results/: latest.json (one object per configuration),
# latest.txt (the table), machine.txt (what it ran on, the load average
# before and after), core and lanes .txt/.json (the storage chain on one
# core and on two lanes, paired), race.txt/race.json (mb against soft and DPDK),
# image.txt (`atx image bench`) and the PNG charts of `atx bench plot`.
set -eu
O=${1:-build/release}
R=bench/results
mkdir -p "$R"
machine() {
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) vCPU, $(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -1) MHz"
	echo "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(aes|vaes|avx2|avx512f|sha_ni|vpclmulqdq)$' | tr '\n' ' ')"
	echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
	echo "kernel: $(uname -r); os: $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "openssl: $(openssl version 2>/dev/null | cut -d' ' -f2); isa-l: $(dpkg-query -W -f='${Version}' libisal2 2>/dev/null || echo ?); intel-ipsec-mb: $(dpkg-query -W -f='${Version}' libipsec-mb1 2>/dev/null || echo ?); dpdk: $(dpkg-query -W -f='${Version}' dpdk-dev 2>/dev/null || echo 'not installed')"
	echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo ?)"
}
{ machine; echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$R/machine.txt.tmp"
"$O/atx" bench --standard --json-out "$R/latest.json.tmp" > "$R/latest.txt.tmp"
# What two threads of the hand loop reach here: the ceiling for worker lanes.
if [ -x "$O/bench-scaling" ]; then
	"$O/bench-scaling" 2 2 >> "$R/machine.txt.tmp"
fi
# What handing a line to the other CPU and taking it back costs here.
if [ -x "$O/bench-lines" ]; then
	"$O/bench-lines" >> "$R/machine.txt.tmp" || true
fi
# The virtio engine against atx-vcryptod (a vhost-user virtio-crypto
# backend in a second process), when it is built: rows appended.
if [ -x "$O/atx-vcryptod" ]; then
	D=$(mktemp -d)
	"$O/atx-vcryptod" --socket "$D/vc.sock" 2>/dev/null &
	VC=$!
	i=0
	while [ ! -S "$D/vc.sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	if "$O/atx" bench -w 'cbc-enc;gcm-enc;xts-enc,crc32c,copy' -e "virtio:$D/vc.sock" -q 8,64 \
		--seconds 1 --rounds 9 --no-peers --json-out "$R/virtio.json.tmp" > "$R/virtio.txt.tmp"; then
		/usr/bin/python3 - "$R/latest.json.tmp" "$R/virtio.json.tmp" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
for r in json.load(open(sys.argv[2])):
    r["engine"] = "virtio:atx-vcryptod"
    rows.append(r)
with open(sys.argv[1], "w") as f:
    f.write("[\n" + ",\n".join("  " + json.dumps(r) for r in rows) + "\n]\n")
PY
		sed -n '2,$p' "$R/virtio.txt.tmp" | sed "s|virtio:$D/vc.sock|virtio:vcryptod|" | grep -v '^GB/s' >> "$R/latest.txt.tmp"
		echo "virtio rows: atx-vcryptod (vhost-user, one data queue) on the same machine" >> "$R/latest.txt.tmp"
	else
		echo "bench/run.sh: the virtio rows failed; kept out of the results" >&2
	fi
	kill "$VC" 2>/dev/null || true
	wait "$VC" 2>/dev/null || true
	rm -rf "$D" "$R/virtio.json.tmp" "$R/virtio.txt.tmp"
fi
# record NAME WHAT ARGS...: `atx bench ARGS` into NAME.txt/NAME.json,
# which a failed run leaves as they were.
record() {
	name=$1
	what=$2
	shift 2
	if "$O/atx" bench "$@" --json-out "$R/$name.json.tmp" > "$R/$name.txt.tmp"; then
		mv -f "$R/$name.json.tmp" "$R/$name.json"
		mv -f "$R/$name.txt.tmp" "$R/$name.txt"
	else
		echo "bench/run.sh: $what failed; kept out of the results" >&2
		rm -f "$R/$name.json.tmp" "$R/$name.txt.tmp"
	fi
}
# The core issue's figures, each path of the 4 KiB storage chain at depth
# 64 (prepared, one atx_chain call, three calls): on one core against the
# hand loop, in many short paired rounds on a pinned CPU (core.txt); and
# with a worker lane or two against the hand loop in two threads in the
# same rounds, whose rounds at two CPUs' worth give the two-lane figure
# (lanes.txt, bench/README.md "hand:N").
CPU=$(($(nproc) - 1))
W2='prep:xts-enc,crc32c,copy;chain:xts-enc,crc32c,copy;xts-enc,crc32c,copy'
record core "the one-core record" -w "$W2" -e soft -b 4K -q 64 --no-peers --cpu "$CPU" \
	--seconds 1 --rounds 61
record lanes "the two-lane record" -w "$W2" -e soft:lanes=1,soft:workers=2 -b 4K -q 64 \
	--no-peers --cpu "$CPU" --seconds 6 --rounds 31 --versus hand:2
# The multi-buffer issue's race: AES-128-CBC encrypt, 4 KiB, depth 64 on
# mb against the software engine and, when installed, DPDK's aesni_mb PMD
# in the same rounds on the same CPU; 15 rounds, each side's median and
# fastest round (bench/README.md, "Noise").  Two rows: one request per
# atx_cipher() call, and all the requests a loop pass finished restarted
# in one atx_burst() call, the way a DPDK application enqueues.  The
# openssl side gives intel-ipsec-mb's own reach over OpenSSL in the same
# rounds, which bounds mb / soft (bench/README.md).
VS=soft,openssl
command -v dpdk-test-crypto-perf >/dev/null 2>&1 && VS=soft,openssl,dpdk:aesni_mb
record race "the mb race" -w 'cbc-enc;burst:cbc-enc' -e mb -q 64 --no-peers --seconds 6 \
	--rounds 15 --versus "$VS"
# atx image encrypt against hand-written loops on the same bytes (issue 7's
# speed question): 256 MiB in /dev/shm, rounds interleaved.
"$O/atx" image bench --size 256 --rounds 3 > "$R/image.txt.tmp" || echo "bench/run.sh: atx image bench failed" >&2
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$R/machine.txt.tmp"
mv -f "$R/latest.json.tmp" "$R/latest.json"
mv -f "$R/latest.txt.tmp" "$R/latest.txt"
mv -f "$R/machine.txt.tmp" "$R/machine.txt"
[ -s "$R/image.txt.tmp" ] && mv -f "$R/image.txt.tmp" "$R/image.txt" || rm -f "$R/image.txt.tmp"
cat "$R/machine.txt" "$R/latest.txt" "$R/core.txt" "$R/lanes.txt" "$R/race.txt" "$R/image.txt" 2>/dev/null
"$O/atx" bench plot "$R/latest.json" -o "$R"
