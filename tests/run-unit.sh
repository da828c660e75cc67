#!/usr/bin/env bash
# Run every unit-test binary in BUILDDIR/tests/ with a per-test timeout.
#
#   tests/run-unit.sh BUILDDIR [NAME...]
#
# One line per binary: PASS / FAIL / TIMEOUT and its wall time, and the
# names of any tests it skipped; the binary's own (cmocka) output is shown
# only when it did not pass.  Ends
# with the line "N passed, M failed".  Exits non-zero if anything failed or
# if there is no test binary at all (an empty run proves nothing).
#
# Environment:
#   ATX_TEST_TIMEOUT  seconds per binary (default 120)
#   ATX_TEST_WRAPPER  command prefix for each binary (e.g. "valgrind -q")
#   ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS  default to make check's
#
# ThreadSanitizer builds (BUILDDIR ending in "tsan") run under
# `setarch -R`: gcc 12's TSan aborts with "unexpected memory mapping" on
# kernels whose mmap randomisation (vm.mmap_rnd_bits > 28) puts libraries
# outside the shadow layout it expects.  Turning off address randomisation
# for the test process only is the usual workaround (fixed in newer TSan
# runtimes, not in the one Debian 12 ships); it changes nothing TSan checks.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILDDIR [NAME...]" >&2
	exit 2
fi
builddir=${1%/}
shift
timeout_s=${ATX_TEST_TIMEOUT:-120}
read -r -a wrapper <<< "${ATX_TEST_WRAPPER:-}"

# The sanitizer settings of `make check`, unless the caller chose others, so
# that `make check-unit BUILD=asan` behaves the same.
here=$(cd "$(dirname "$0")" && pwd)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$here/tsan.supp}

case "$builddir" in
*tsan)
	if [ ${#wrapper[@]} -eq 0 ] && setarch "$(uname -m)" -R true 2>/dev/null; then
		wrapper=(setarch "$(uname -m)" -R)
	fi
	;;
esac

bins=()
if [ $# -gt 0 ]; then
	for n in "$@"; do
		bins+=("$builddir/tests/$n")
	done
else
	for f in "$builddir"/tests/*; do
		[ -f "$f" ] && [ -x "$f" ] && bins+=("$f")
	done
fi

if [ ${#bins[@]} -eq 0 ]; then
	echo "FAIL    no test binaries in $builddir/tests/ (run make BUILD=... tests)"
	echo "0 passed, 1 failed"
	exit 1
fi

out=$(mktemp "${TMPDIR:-/tmp}/atx-unit.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

pass=0
fail=0
skipped=0
for bin in "${bins[@]}"; do
	name=${bin##*/}
	start=$(date +%s%N)
	if [ ! -x "$bin" ]; then
		echo "missing: $bin" > "$out"
		rc=127
	else
		timeout -k 10 "$timeout_s" "${wrapper[@]}" "$bin" > "$out" 2>&1 < /dev/null
		rc=$?
	fi
	end=$(date +%s%N)
	ms=$(( (end - start) / 1000000 ))
	t=$(printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)))
	if [ $rc -eq 0 ]; then
		# A skipped test is not a passed one: name each (cmocka prints
		# "[  SKIPPED ] name" once per test, then again in its summary).
		sk=$(sed -n 's/^\[  SKIPPED \] \([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' "$out" | sort -u)
		if [ -n "$sk" ]; then
			n=$(printf '%s\n' "$sk" | wc -l)
			printf 'PASS    %-32s %s, %d SKIPPED: %s\n' "$name" "$t" "$n" "$(printf '%s' "$sk" | tr '\n' ' ')"
			skipped=$((skipped + n))
		else
			printf 'PASS    %-32s %s\n' "$name" "$t"
		fi
		pass=$((pass + 1))
		continue
	fi
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		printf 'TIMEOUT %-32s %s (limit %ss)\n' "$name" "$t" "$timeout_s"
	else
		printf 'FAIL    %-32s %s (exit %d)\n' "$name" "$t" "$rc"
	fi
	echo "---- output of $name ----"
	cat "$out"
	echo "---- end of $name ----"
	fail=$((fail + 1))
done

[ $skipped -eq 0 ] || echo "$skipped individual tests SKIPPED inside passing binaries (named above)"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
