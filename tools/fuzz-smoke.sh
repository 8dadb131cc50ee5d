#!/usr/bin/env bash
# Fuzz smoke run: builds the libFuzzer targets (clang, -Dfuzzing=true, in
# build/fuzz) and runs each one for SECONDS (default 20) over a temporary copy
# of its seed corpus (tests/fuzz/corpus/<target>/ is never written).  Fails on
# any crash, leak, timeout or out-of-memory; prints execs/s per target.  A
# failing input is kept under build/fuzz/artifacts/<target>/.
#
# Usage: tools/fuzz-smoke.sh [SECONDS]
# Environment: FUZZ_TARGETS="fuzz_wbxml_decoder ..." to run a subset;
#   FUZZ_ARGS="-jobs=2 ..." extra libFuzzer flags;
#   EAS_FUZZ_LAX_OFFSETS=1 (fuzz_wbxml_decoder) leaves error offsets out of
#   its split-invariance check.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=${1:-20}
case $secs in
'' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
build=build/fuzz

command -v clang >/dev/null || { echo "fuzz-smoke: clang is missing (tools/deps.sh test)" >&2; exit 1; }

if [ ! -f "$build/build.ninja" ]; then
	CC=clang meson setup "$build" -Dfuzzing=true -Dbuildtype=debugoptimized
else
	meson configure "$build" -Dfuzzing=true >/dev/null
fi
ninja -C "$build"

targets=${FUZZ_TARGETS:-$(find tests/fuzz -maxdepth 1 -name 'fuzz_*.c' -printf '%f\n' | sed 's/\.c$//' | sort)}
work=$(mktemp -d "${TMPDIR:-/tmp}/eas-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Leaks fail the run; UBSan findings abort (the targets use -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=()
summary=()
for t in $targets; do
	exe=$root/$build/tests/fuzz/$t
	[ -x "$exe" ] || { echo "fuzz-smoke: $exe was not built" >&2; failed+=("$t"); continue; }
	mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
	seeds=0
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp -p "tests/fuzz/corpus/$t"/* "$work/$t/corpus/" 2>/dev/null || true
		seeds=$(find "$work/$t/corpus" -type f | wc -l)
	fi
	echo "=== $t: ${secs}s over $seeds seed(s) ==="
	rc=0
	# shellcheck disable=SC2086
	(cd "$work/$t" && "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -error_exitcode=1 -artifact_prefix="$work/$t/artifacts/" ${FUZZ_ARGS:-} corpus) \
		>"$work/$t/log" 2>&1 || rc=$?
	statline() { sed -n "s/^stat::$1: *//p" "$work/$t/log" | tail -1; }
	execs=$(statline number_of_executed_units)
	rate=$(statline average_exec_per_sec)
	found=$(find "$work/$t/artifacts" -type f | wc -l)
	corpus=$(find "$work/$t/corpus" -type f | wc -l)
	if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
		keep=$root/$build/artifacts/$t
		mkdir -p "$keep"
		cp -p "$work/$t/artifacts"/* "$keep/" 2>/dev/null || true
		cp -p "$work/$t/log" "$keep/log.txt"
		echo "--- $t FAILED (exit $rc); end of its log:"
		grep -v '^#[0-9]' "$work/$t/log" | tail -40
		echo "--- failing input(s) kept in $keep:"
		ls -1 "$keep"
		failed+=("$t")
		summary+=("$(printf '%-22s FAIL  %10s execs  %8s execs/s' "$t" "${execs:-?}" "${rate:-?}")")
	else
		summary+=("$(printf '%-22s ok    %10s execs  %8s execs/s  corpus %d -> %d' \
			"$t" "${execs:-?}" "${rate:-?}" "$seeds" "$corpus")")
	fi
done

echo
echo "=== fuzz smoke summary (${secs}s per target) ==="
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz-smoke: FAILED: ${failed[*]}" >&2
	exit 1
fi
