#!/usr/bin/env bash
# Cross-builds libeas for ARM and runs its tests under qemu-user.
#
#   tools/cross-test.sh arm64|armhf [BUILDDIR]      (default BUILDDIR: build/ARCH)
#
# 1. makes sure a Debian sysroot for ARCH exists (tools/cross-sysroot.sh),
#    cached in $LIBEAS_CACHE/sysroot-ARCH, LIBEAS_CACHE defaulting to
#    ${XDG_CACHE_HOME:-$HOME/.cache}/libeas;
# 2. configures BUILDDIR with the sysroot's machine file + toolchains/<triplet>.ini
#    and --werror (reconfigures an existing one);
# 3. builds, and runs `meson test`, which starts every test through the cross
#    file's exe_wrapper (qemu-<arch> -L sysroot).
# Exits non-zero if any step or any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 arm64|armhf [BUILDDIR]" >&2
	exit 2
fi
arch=$1
case $arch in
arm64) triplet=aarch64-linux-gnu ;;
armhf) triplet=arm-linux-gnueabihf ;;
*) echo "cross-test: unknown ARCH '$arch' (arm64 or armhf)" >&2; exit 2 ;;
esac
builddir=${2:-build/$arch}
cache=${LIBEAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/libeas}
sysroot=$cache/sysroot-$arch

tools/cross-sysroot.sh "$arch" "$sysroot"
sysroot=$(realpath "$sysroot")
# Absolute paths: meson records the cross files and re-reads them whenever
# it regenerates, from whatever directory that happens in.
cross=(--cross-file "$(dirname "$sysroot")/sysroot-$arch.ini"
	--cross-file "$root/toolchains/$triplet.ini")

# pkg-config prefixes the sysroot to every -I, including the sysroot's
# /usr/include, which it would drop in a native build.  Passed as -I, those
# headers stop being "system headers" and their warnings would break
# --werror; tell pkgconf which directories are the system ones.
export PKG_CONFIG_SYSTEM_INCLUDE_PATH="$sysroot/usr/include/$triplet:$sysroot/usr/include"

if [ -f "$builddir/meson-private/coredata.dat" ]; then
	# A build dir keeps the cross files it was set up with; if they differ
	# (another LIBEAS_CACHE), start it over with the new ones.
	if grep -qF "$(dirname "$sysroot")/sysroot-$arch.ini" "$builddir/meson-private/cmd_line.txt" 2>/dev/null; then
		meson setup --reconfigure "$builddir" "${cross[@]}" --werror
	else
		echo "cross-test: $builddir was set up with other cross files: wiping it" >&2
		meson setup --wipe "$builddir" "${cross[@]}" --werror
	fi
else
	meson setup "$builddir" "${cross[@]}" --werror
fi
meson compile -C "$builddir"

# A cheap guard against a silently native build.
probe=$builddir/tests/test_error
if [ -f "$probe" ] && command -v file >/dev/null; then
	echo "cross-test: $(file -b "$probe" | cut -d, -f1-2)"
fi

rc=0
meson test -C "$builddir" --print-errorlogs --num-processes 2 || rc=$?

# Counts from meson's JSON test log (one JSON object per line).
log=$builddir/meson-logs/testlog.json
pass=$(grep -cE '"result": "(OK|EXPECTEDFAIL)"' "$log" || true)
skip=$(grep -c '"result": "SKIP"' "$log" || true)
total=$(grep -c '"result"' "$log" || true)
fail=$((total - pass - skip))
echo "$arch: $pass passed, $fail failed, $skip skipped"
if [ "$rc" -eq 0 ] && [ "$total" -eq 0 ]; then
	echo "cross-test: no test ran" >&2
	rc=1
fi
exit "$rc"
