#!/bin/sh
# SPDX-License-Identifier: MIT
# bench/run.sh BUILD_DIR - `make bench`: the standard set of `atx bench`,
# recorded in bench/results/: latest.json (one object per configuration),
# latest.txt (the table), machine.txt (what it ran on, the load average
# before and after) and the PNG charts of `atx bench plot`.
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
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$R/machine.txt.tmp"
mv -f "$R/latest.json.tmp" "$R/latest.json"
mv -f "$R/latest.txt.tmp" "$R/latest.txt"
mv -f "$R/machine.txt.tmp" "$R/machine.txt"
cat "$R/machine.txt" "$R/latest.txt"
"$O/atx" bench plot "$R/latest.json" -o "$R"
