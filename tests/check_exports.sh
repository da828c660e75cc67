#!/usr/bin/env bash
# The shared library's ABI surface: every defined dynamic symbol of
# BUILDDIR/libatx.so.0 is a public atx_* name (never atx__* internals,
# engine-private soft_* etc., or stray helpers), and the soname is
# libatx.so.0.  The symbol version node itself (ATX_0.1, an absolute "A"
# symbol that nm -D lists for versioned libraries) is expected.
#
#   tests/check_exports.sh [BUILDDIR]     (default build/release)
set -u
builddir=${1:-build/release}
lib=$builddir/libatx.so.0
rc=0

if [ ! -f "$lib" ]; then
	echo "FAIL exports: $lib does not exist"
	exit 1
fi

soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
if [ "$soname" != "libatx.so.0" ]; then
	echo "FAIL exports: soname is '${soname:-<none>}', want libatx.so.0"
	rc=1
fi

# "ADDR TYPE NAME[@@VERSION]"; keep the name only.
syms=$(nm -D --defined-only "$lib" | awk '{ print $2, $3 }')
bad=$(printf '%s\n' "$syms" | awk '
	$1 == "A" && $2 ~ /^ATX_[0-9.]+$/ { next }     # version node
	$2 ~ /^atx_[a-z0-9]/ { next }                   # public API
	NF { print "  " $1 " " $2 }')
n=$(printf '%s\n' "$syms" | grep -c ' atx_[a-z0-9]')
if [ -n "$bad" ]; then
	echo "FAIL exports: symbols outside the public atx_* API in $lib:"
	printf '%s\n' "$bad"
	rc=1
fi
if [ "$n" -eq 0 ]; then
	echo "FAIL exports: $lib exports no atx_* symbol at all"
	rc=1
fi
[ $rc -eq 0 ] && echo "PASS exports: $n atx_* symbols, soname $soname"
exit $rc
