#!/usr/bin/env bash
# The whole libeas test suite (README command 2, called by .ci/run).
# Every configuration builds and runs `meson test`; any failure fails the run.
#   native  gcc, -Wall -Wextra -Werror
#   interop our client (build/native) against SOGo 5.8 from Debian packages (needs root)
#   asan    clang, AddressSanitizer + UndefinedBehaviorSanitizer, no recovery
#   arm64   aarch64 cross build, tests under qemu-aarch64
#   armhf   armhf cross build against a sysroot, tests under qemu-arm
#   minimal gcc with curl, sqlite and server off: the handset build links none of them
#   fuzz    libFuzzer smoke: every target for LIBEAS_FUZZ_SECONDS (default 20)
#   bench   benchmarks (figures and target checks; not timed tests)
# LIBEAS_STAGES="native asan" runs a subset (default: all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tools/deps.sh all

stages=${LIBEAS_STAGES:-native interop asan minimal arm64 armhf fuzz bench}
summary=()

# meson_build DIR [setup args...]: configure (once), build, test.
run_config() {
	local name=$1 dir=$2
	shift 2
	echo "=== libeas: $name ==="
	if [ ! -f "$dir/build.ninja" ]; then
		meson setup "$dir" "$@"
	else
		meson configure "$dir" "$@" >/dev/null
	fi
	ninja -C "$dir"
	local rc=0
	meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
	summary+=("$name: $(count_tests "$dir")")
	return $rc
}

# require_tests DIR NAME...: fails when a test that must run in DIR's
# configuration did not run (e.g. the libwbxml oracle, registered only when
# its tools are installed), so a missing tool cannot turn into a quiet pass.
require_tests() {
	local dir=$1
	shift
	for name in "$@"; do
		grep -qE "\"name\": \"([^\"]*/ )?$name\", .*\"result\": \"OK\"" "$dir/meson-logs/testlog.json" ||
			{ echo "libeas: required test '$name' did not run (or pass) in $dir" >&2; return 1; }
	done
}

# Counts from meson's JSON test log: suites and the cmocka cases they ran.
count_tests() {
	python3 - "$1/meson-logs/testlog.json" <<'PY'
import json, re, sys
ok = bad = cases = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    if t['result'] in ('OK', 'EXPECTEDFAIL'): ok += 1
    else: bad += 1
    out = t.get('stdout', '') + (t.get('stderr') or '')
    cases += len(re.findall(r'^\[       OK \] ', out, re.M))
print(f"{ok} test programs passed, {bad} failed; {cases} cmocka cases passed")
PY
}

for stage in $stages; do
	case $stage in
	native)
		CC=gcc run_config native build/native --werror -Dwarning_level=2
		require_tests build/native libwbxml_agree eas_wbxml_cli headers-listed ;;
	interop)
		echo "=== libeas: interop against SOGo (tests/interop/run.sh) ==="
		[ -f build/native/build.ninja ] || CC=gcc meson setup build/native --werror -Dwarning_level=2
		ninja -C build/native
		rc=0
		tests/interop/run.sh build/native 2>&1 | tee build/interop.log || rc=$?
		summary+=("interop: $(sed -n 's/^interop: \([0-9]*\) passed, \([0-9]*\) failed (SOGo \([^;]*\);.*/\1 checks passed, \2 failed against SOGo \3/p' build/interop.log | tail -1) ($(sed -n 's/^=== interop: timings: //p' build/interop.log | tail -1))")
		[ $rc = 0 ] || { echo "libeas: interop checks against SOGo failed" >&2; exit 1; } ;;
	asan)
		CC=clang run_config "asan+ubsan" build/asan --werror \
			-Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all
		require_tests build/asan libwbxml_agree eas_wbxml_cli ;;
	minimal)
		CC=gcc run_config minimal build/minimal --werror -Dcurl=disabled -Dsqlite=disabled -Dserver=disabled
		if ldd build/minimal/libeas.so | grep -E 'libcurl|libsqlite|libmicrohttpd'; then
			echo "libeas: the minimal build links a disabled dependency" >&2
			exit 1
		fi ;;
	arm64 | armhf)
		echo "=== libeas: $stage (qemu) ==="
		tools/cross-test.sh "$stage" "build/$stage"
		summary+=("$stage: $(count_tests "build/$stage")") ;;
	fuzz)
		echo "=== libeas: fuzz smoke ==="
		tools/fuzz-smoke.sh "${LIBEAS_FUZZ_SECONDS:-20}"
		summary+=("fuzz: every target ran ${LIBEAS_FUZZ_SECONDS:-20}s without a finding") ;;
	bench)
		echo "=== libeas: benchmarks ==="
		meson test -C build/native --benchmark --print-errorlogs
		summary+=("bench: targets met (figures above)") ;;
	*) echo "unknown stage $stage" >&2; exit 2 ;;
	esac
done

echo
echo "=== libeas test summary ==="
printf '  %s\n' "${summary[@]}"
