#!/usr/bin/env bash
# `make check`: every test suite atx has, each counted once in the summary.
#
#   unit-release  cmocka unit tests, -O2
#   unit-asan     the same under AddressSanitizer + UBSan (+ LeakSanitizer)
#   unit-tsan     the same under ThreadSanitizer (tests/tsan.supp)
#   build         `make all`: library, tools, pkg-config file
#   harness       Python end-to-end tests (tests/harness/test_*.py)
#   exports       ABI surface of libatx.so.0 (tests/check_exports.sh)
#   install       `make install` into a temporary prefix, then a program
#                 built with pkg-config against it links and runs
#
# A suite that has nothing to test yet (no harness files) is SKIPped and
# not counted.  Suites run even after an earlier one failed, so one run shows every
# failure.  The last line is "N passed, M failed" (suites); the exit status
# is non-zero if any suite failed.
#
# Environment: ATX_JOBS (make -j, default 2), ATX_CHECK_SUITES (a
# space-separated subset of the names above, default all),
# ATX_HARNESS_TIMEOUT (seconds for the whole harness, default 600),
# ATX_TEST_TIMEOUT (seconds per unit-test binary, see run-unit.sh).
set -u
cd "$(dirname "$0")/.."
top=$PWD

jobs=${ATX_JOBS:-2}
suites=${ATX_CHECK_SUITES:-unit-release unit-asan unit-tsan build harness exports install}
make=(make --no-print-directory -j"$jobs")

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$top/tests/tsan.supp"

passed=0
failed=0
failed_names=
t_all=$(date +%s)

# run_suite NAME CMD...: run one suite, record its result
run_suite() {
	local name=$1 t0 rc
	shift
	case " $suites " in *" $name "*) ;; *) return 0 ;; esac
	echo "==== $name"
	t0=$(date +%s)
	"$@"
	rc=$?
	if [ $rc -eq 77 ]; then
		echo "==== $name: SKIP (not counted)"
	elif [ $rc -eq 0 ]; then
		echo "==== $name: PASS ($(( $(date +%s) - t0 ))s)"
		passed=$((passed + 1))
	else
		echo "==== $name: FAIL (exit $rc, $(( $(date +%s) - t0 ))s)"
		failed=$((failed + 1))
		failed_names="$failed_names $name"
	fi
}

unit() {
	"${make[@]}" BUILD="$1" tests && tests/run-unit.sh "build/$1"
}

harness() {
	local files
	files=$(find tests/harness -name 'test_*.py' -o -name '*_test.py' 2>/dev/null)
	if [ -z "$files" ]; then
		echo "no test files in tests/harness: nothing to run"
		return 77
	fi
	# pytest exits 5 when it collected nothing: with test files present that
	# means they are broken (or all deselected), so it is a failure too.
	# A hung harness must not eat CI's whole budget.
	ATX_BUILD=build/release timeout -k 10 "${ATX_HARNESS_TIMEOUT:-600}" \
		/usr/bin/python3 -m pytest -q tests/harness
	local rc=$?
	[ $rc -eq 5 ] && echo "pytest collected no tests although tests/harness has test files"
	return $rc
}

install_smoke() {
	local d rc=1
	d=$(mktemp -d "${TMPDIR:-/tmp}/atx-install.XXXXXX") || return 1
	(
		set -e
		"${make[@]}" BUILD=release install PREFIX="$d/prefix" > "$d/install.log" ||
			{ cat "$d/install.log"; exit 1; }
		export PKG_CONFIG_PATH="$d/prefix/lib/pkgconfig"
		cflags=$(pkg-config --cflags atx)
		libs=$(pkg-config --libs atx)
		slibs=$(pkg-config --static --libs atx)
		echo "pkg-config: $cflags $libs"
		cat > "$d/smoke.c" <<-'EOF'
		#include <errno.h>
		#include <stdio.h>
		#include <string.h>
		#include <atx.h>
		int main(void)
		{
			const char *s = atx_strerror(-EINVAL);
			if (!s || !*s) {
				fprintf(stderr, "atx_strerror(-EINVAL) gave nothing\n");
				return 1;
			}
			printf("atx_strerror(-EINVAL) = %s\n", s);
			return 0;
		}
		EOF
		# shellcheck disable=SC2086
		cc -o "$d/smoke" "$d/smoke.c" $cflags $libs
		LD_LIBRARY_PATH="$d/prefix/lib" "$d/smoke"
		# shellcheck disable=SC2086,SC2046
		cc -static-libgcc -o "$d/smoke-static" "$d/smoke.c" $cflags \
			"$d/prefix/lib/libatx.a" $(echo " $slibs " | sed 's/ -latx / /')
		"$d/smoke-static"
	)
	rc=$?
	rm -rf "$d"
	return $rc
}

run_suite unit-release unit release
run_suite unit-asan unit asan
run_suite unit-tsan unit tsan
run_suite build "${make[@]}" BUILD=release all
run_suite harness harness
run_suite exports tests/check_exports.sh build/release
run_suite install install_smoke

echo "make check took $(( $(date +%s) - t_all ))s${failed_names:+; failed:$failed_names}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
