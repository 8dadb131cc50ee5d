#!/usr/bin/env bash
# Installs the Debian 12 packages libeas needs to build and test, when missing.
# Usage: tools/deps.sh [build|test|all]   (default: all)
set -euo pipefail

build_pkgs=(meson ninja-build pkg-config gcc python3
	libcurl4-openssl-dev libmbedtls-dev libexpat1-dev libcmocka-dev
	libsqlite3-dev libmicrohttpd-dev)
# The test suite also needs: clang + its sanitizer/fuzzer runtime, the
# independent WBXML codec, the ARM cross compilers and qemu-user.
test_pkgs=(clang libclang-rt-14-dev llvm libwbxml2-dev libwbxml2-utils
	gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf qemu-user file xz-utils curl openssl)

case "${1:-all}" in
build) want=("${build_pkgs[@]}") ;;
test | all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
*) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "libeas: installing Debian packages: ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "libeas: run as root or install: ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
apt_opts=(-o DPkg::Lock::Timeout=900 -q)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get "${apt_opts[@]}" update
"${sudo[@]}" apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
