#!/usr/bin/env bash
# The whole libeas test suite (README command 2, called by .ci/run).
# Every configuration builds and runs `meson test`; any failure fails the run.
#   native  gcc, -Wall -Wextra -Werror
#   asan    clang, AddressSanitizer + UndefinedBehaviorSanitizer, no recovery
#   arm64   aarch64 cross build, tests under qemu-aarch64
#   armhf   armhf cross build against a sysroot, tests under qemu-arm
# LIBEAS_STAGES="native asan" runs a subset (default: all of them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

tools/deps.sh all

stages=${LIBEAS_STAGES:-native asan arm64 armhf}
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
		CC=gcc run_config native build/native --werror -Dwarning_level=2 ;;
	asan)
		CC=clang run_config "asan+ubsan" build/asan --werror \
			-Db_sanitize=address,undefined -Db_lundef=false \
			-Dc_args=-fno-sanitize-recover=all -Dc_link_args=-fno-sanitize-recover=all ;;
	arm64 | armhf)
		echo "=== libeas: $stage (qemu) ==="
		tools/cross-test.sh "$stage" "build/$stage"
		summary+=("$stage: $(count_tests "build/$stage")") ;;
	*) echo "unknown stage $stage" >&2; exit 2 ;;
	esac
done

echo
echo "=== libeas test summary ==="
printf '  %s\n' "${summary[@]}"
