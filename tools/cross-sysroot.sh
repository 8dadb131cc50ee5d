#!/usr/bin/env bash
# Builds a Debian sysroot for an ARM cross build of libeas, from .debs.
#
#   tools/cross-sysroot.sh ARCH DEST        ARCH = arm64 | armhf
#
# DEST receives the unpacked -dev packages (and all their dependencies) of
# Debian ARCH; DEST/../sysroot-ARCH.ini receives a meson machine file with
# `[constants] sysroot = 'DEST'`, to be given before toolchains/<triplet>.ini.
#
# Why a sysroot and not `dpkg --add-architecture`: the host's multiarch armhf
# -dev packages are not co-installable with the amd64 ones here, and a foreign
# architecture with a stale index also breaks the host's `apt-get update`.
# This script never touches the host's dpkg database or apt lists: it runs
# apt-get with a private state (lists, cache, an EMPTY dpkg status) that only
# downloads, and unpacks with `dpkg -x`.
#
# The host's own apt sources (read at run time) name the mirrors; its
# apt.conf.d (proxies, validity checks) is inherited.  A suite whose index
# cannot be fetched for ARCH (e.g. a stale security index) is dropped with a
# warning; only a failing download of a needed package is fatal.
#
# Cached and idempotent: DEST/.libeas-sysroot holds a hash of the package
# list; if it matches, nothing is done.  Downloaded .debs and lists are kept in
# DEST/../apt-ARCH/ so a rebuild does not download again.  Delete both to
# refresh from the mirror (e.g. to pick up security updates).
#
# As root on a fresh Debian 12 it first installs the host tools it needs
# (cross gcc, qemu-user, meson, ninja, pkg-config) with the host's apt-get.
set -euo pipefail

# The packages libeas builds and tests against (see meson.build).  Changing
# this list (or LAYOUT) invalidates existing sysroots.
PACKAGES=(libc6-dev libcurl4-openssl-dev libmbedtls-dev libexpat1-dev
	libcmocka-dev libsqlite3-dev libmicrohttpd-dev)
# Bump when the way the tree is assembled changes.
LAYOUT=1

say() { echo "cross-sysroot: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ $# -eq 2 ] || { echo "usage: $0 arm64|armhf DEST" >&2; exit 2; }
ARCH=$1
case $ARCH in
arm64) TRIPLET=aarch64-linux-gnu QEMU=qemu-aarch64 GCCPKG=gcc-aarch64-linux-gnu ;;
armhf) TRIPLET=arm-linux-gnueabihf QEMU=qemu-arm GCCPKG=gcc-arm-linux-gnueabihf ;;
*) die "unknown ARCH '$ARCH' (arm64 or armhf)" ;;
esac
DEST=$(realpath -m -- "$2")
case $DEST in
/ | *"'"* | *\\*) die "DEST '$DEST' is not usable (root, or a quote/backslash for meson)" ;;
esac
PARENT=$(dirname "$DEST")
INI=$PARENT/sysroot-$ARCH.ini
APTDIR=$PARENT/apt-$ARCH   # private apt state and .deb cache
STAMP=$DEST/.libeas-sysroot
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C            # apt output is parsed below

# ---- host tools ------------------------------------------------------------
# command -> Debian package that provides it
need_tools() {
	local -A want=([$TRIPLET-gcc]=$GCCPKG [$QEMU]=qemu-user [meson]=meson
		[ninja]=ninja-build [pkg-config]=pkg-config [python3]=python3
		[file]=file [apt-get]=apt [dpkg-deb]=dpkg [flock]=util-linux)
	local missing=() cmd
	for cmd in "${!want[@]}"; do
		command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing host packages (run as root to install): ${missing[*]}"
	say "installing host packages: ${missing[*]}"
	apt-get -o DPkg::Lock::Timeout=900 -q update
	apt-get -o DPkg::Lock::Timeout=900 -q install -y --no-install-recommends "${missing[@]}"
}
need_tools

mkdir -p "$PARENT"
# Two runs for the same DEST (parallel CI jobs) must not interleave.
exec 9>"$PARENT/.sysroot-$ARCH.lock"
flock 9

want_stamp=$( { echo "layout $LAYOUT arch $ARCH"; printf '%s\n' "${PACKAGES[@]}" | sort; } |
	sha256sum | cut -d' ' -f1)

write_ini() {
	local tmp=$INI.tmp
	cat >"$tmp" <<EOF
# Written by tools/cross-sysroot.sh: the machine-specific part of a libeas
# cross build.  Give it BEFORE toolchains/$TRIPLET.ini:
#   meson setup --cross-file $INI --cross-file toolchains/$TRIPLET.ini ...
[constants]
sysroot = '$DEST'
EOF
	mv -f "$tmp" "$INI"
}

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
	say "$DEST is up to date ($ARCH)"
	write_ini
	exit 0
fi

# ---- private apt configuration ----------------------------------------------
mkdir -p "$APTDIR"/{lists/partial,archives/partial,cache,sources.list.d,preferences.d,apt.conf.d}
: >"$APTDIR/status"      # empty: apt resolves every dependency from scratch
: >"$APTDIR/sources.list"
# Inherit the host's apt settings (proxy, Check-Valid-Until, ...) but not
# its hooks, which act on the host (cache cleaning, PackageKit).
rm -f "$APTDIR"/apt.conf.d/*
if [ -d /etc/apt/apt.conf.d ]; then
	find /etc/apt/apt.conf.d -maxdepth 1 -type f -exec cp -t "$APTDIR/apt.conf.d/" {} +
fi
cat >"$APTDIR/apt.conf.d/zzzz-libeas-private" <<'EOF'
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Pre-Invoke;
#clear DPkg::Post-Invoke;
#clear DPkg::Pre-Install-Pkgs;
EOF
# Read first (APT_CONFIG), so that Dir::Etc::Parts points at our copy.
cat >"$APTDIR/apt.conf" <<EOF
Dir::Etc::Parts "$APTDIR/apt.conf.d";
EOF
apt_opts=(
	-o "APT::Architecture=$ARCH" -o "APT::Architectures=$ARCH"
	-o "Dir::State=$APTDIR" -o "Dir::State::Lists=$APTDIR/lists"
	-o "Dir::State::status=$APTDIR/status"
	-o "Dir::State::extended_states=$APTDIR/extended_states"
	-o "Dir::Cache=$APTDIR/cache" -o "Dir::Cache::Archives=$APTDIR/archives"
	-o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
	-o "Dir::Etc::SourceList=$APTDIR/sources.list"
	-o "Dir::Etc::SourceParts=$APTDIR/sources.list.d"
	-o "Dir::Etc::Preferences=$APTDIR/preferences"
	-o "Dir::Etc::PreferencesParts=$APTDIR/preferences.d"
	-o "Dir::Log=$APTDIR" -o "Acquire::Languages=none"
	-o "APT::Install-Recommends=false" -o "APT::Install-Suggests=false"
	-o "DPkg::Lock::Timeout=900" -q
)
# As root apt would hand downloads to the _apt user, which cannot enter a
# cache under /root; downloads stay root-owned in our own folder instead.
[ "$(id -u)" -eq 0 ] && apt_opts+=(-o "APT::Sandbox::User=root")
papt() { APT_CONFIG=$APTDIR/apt.conf apt-get "${apt_opts[@]}" "$@"; }

# The host's Debian sources, as one deb822 stanza per (URI, suite), so that a
# single failing suite can be left out.  Reads deb822 *.sources and one-line
# sources.list / *.list; keeps Signed-By/Trusted, drops deb-src, disabled
# entries and architecture restrictions (they name the host's arch).
# $1: space-separated "URI|SUITE" keys to leave out.
host_sources() {
	local files=()
	[ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
	local f
	for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || die "no apt sources on this host"
	awk -v skip=" $1 " '
	function emit(types, uris, suites, comps, signed, trusted,   nu, ns, u, s, U, S, i, j) {
		if (types !~ /(^|[ \t])deb([ \t]|$)/) return
		nu = split(uris, U, /[ \t]+/); ns = split(suites, S, /[ \t]+/)
		for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) {
			u = U[i]; s = S[j]
			if (u == "" || s == "") continue
			sub(/\/+$/, "", u)
			if (index(skip, " " u "|" s " ")) continue
			print "Types: deb"; print "URIs: " u; print "Suites: " s
			if (comps != "") print "Components: " comps
			if (signed != "") print "Signed-By:" signed
			if (trusted != "") print "Trusted: " trusted
			print ""
		}
	}
	function flush() {
		if (enabled !~ /^[Nn][Oo]$/) emit(f["types"], f["uris"], f["suites"], f["components"], f["signed-by"], f["trusted"])
		delete f; enabled = ""; last = ""
	}
	FNR == 1 { if (NR > 1 && deb822) flush(); deb822 = (FILENAME ~ /\.sources$/) }
	deb822 {
		if ($0 ~ /^[ \t]*#/) next
		if ($0 ~ /^[ \t]*$/) { flush(); next }
		if ($0 ~ /^[ \t]/) {              # continuation line
			if (last == "signed-by") f[last] = f[last] "\n" $0   # inline key block
			else if (last != "") f[last] = f[last] " " $0
			next
		}
		k = tolower(substr($0, 1, index($0, ":") - 1)); v = substr($0, index($0, ":") + 1)
		if (k != "signed-by") { gsub(/^[ \t]+|[ \t]+$/, "", v) }
		else if (v !~ /^[ \t]*$/) { sub(/^[ \t]+/, " ", v) }
		if (k == "enabled") enabled = v; else f[k] = v
		last = k
		next
	}
	{ # one-line format: deb [opts] uri suite comp...
		sub(/#.*/, "")
		if (NF < 3 || $1 != "deb") next
		signed = ""; trusted = ""; i = 2
		if ($2 ~ /^\[/) {
			opts = ""
			for (; i <= NF; i++) { opts = opts " " $i; if ($i ~ /\]$/) { i++; break } }
			gsub(/[\[\]]/, "", opts)
			n = split(opts, O, /[ \t]+/)
			for (j = 1; j <= n; j++) {
				if (O[j] ~ /^signed-by=/) signed = " " substr(O[j], 11)
				if (O[j] ~ /^trusted=/) trusted = substr(O[j], 9)
			}
		}
		uri = $i; suite = $(i + 1); comps = ""
		for (j = i + 2; j <= NF; j++) comps = comps (comps == "" ? "" : " ") $j
		emit("deb", uri, suite, comps, signed, trusted)
	}
	END { if (deb822) flush() }
	' "${files[@]}"
}

# `apt-get update`; on failure, leave out every suite apt named in an error
# or warning and update again.  $1: keys already left out.
update_indexes() {
	local skip=$1 log=$APTDIR/update.log
	host_sources "$skip" >"$APTDIR/sources.list.d/host.sources"
	grep -q '^URIs:' "$APTDIR/sources.list.d/host.sources" || die "no usable apt source left"
	if papt update >"$log" 2>&1; then
		return 0
	fi
	cat "$log" >&2
	local failed=() u s
	while read -r u s; do
		# apt names a failing index by URL (.../dists/SUITE/...) or as
		# "URI SUITE[/component]" (Err:N lines, Release file errors).
		if grep -E '^(E|W|Err):' "$log" | grep -qF -e "$u/dists/$s/" -e "$u $s " -e "$u $s/" -e "$u $s:"; then
			failed+=("$u|$s")
		fi
	done < <(awk '/^URIs:/ { u = $2 } /^Suites:/ { print u, $2 }' "$APTDIR/sources.list.d/host.sources")
	[ ${#failed[@]} -gt 0 ] || die "apt-get update failed for $ARCH (see above)"
	local k
	for k in "${failed[@]}"; do
		say "WARNING: leaving out suite ${k#*|} from ${k%|*}: its $ARCH index could not be fetched"
		say "WARNING: packages come from the remaining suites (possibly without the latest security fixes)"
	done
	update_indexes "$skip ${failed[*]}"
}

say "downloading $ARCH packages with a private apt state in $APTDIR"
update_indexes ""

# Resolve against the empty status: every dependency gets listed.
papt install -s "${PACKAGES[@]}" >"$APTDIR/resolve.log" ||
	{ cat "$APTDIR/resolve.log" >&2; die "cannot resolve the $ARCH package set"; }
# "Inst NAME (VERSION SUITE [ARCH])" -> NAME VERSION ARCH
mapfile -t debs < <(sed -n 's/^Inst \([^ ]*\) (\([^ ]*\) [^[]*\[\([^]]*\)\]).*/\1 \2 \3/p' "$APTDIR/resolve.log" |
	while read -r n v a; do echo "${n%%:*}_${v//:/%3a}_$a.deb"; done | sort)
[ ${#debs[@]} -gt 0 ] || die "apt resolved no packages (see $APTDIR/resolve.log)"
papt install --download-only -y "${PACKAGES[@]}"

# Drop .debs of other versions left from earlier runs: the cache stays small
# and only the resolved set gets unpacked.
find "$APTDIR/archives" -maxdepth 1 -name '*.deb' -printf '%f\n' | sort |
	comm -23 - <(printf '%s\n' "${debs[@]}") | sed "s|^|$APTDIR/archives/|" | xargs -r rm -f

# ---- unpack -----------------------------------------------------------------
# Assemble beside DEST and move into place: an interrupted run leaves no
# half-built sysroot with a valid stamp.
TMP=$DEST.partial
rm -rf "$TMP"
mkdir -p "$TMP"
say "unpacking ${#debs[@]} packages into $DEST"
for d in "${debs[@]}"; do
	[ -f "$APTDIR/archives/$d" ] || die "expected download missing: $d"
	dpkg-deb -x "$APTDIR/archives/$d" "$TMP"
done

# Absolute symlinks (e.g. usr/lib/<triplet>/libm.so -> /lib/<triplet>/libm.so.6)
# would point into the HOST when the linker or qemu follow them; make them
# relative so they stay inside the sysroot.
fixed=0
while IFS= read -r -d '' link; do
	target=$(readlink "$link")
	dir=$(cd "$(dirname "$link")" && pwd -P)
	ln -sfn "$(realpath -ms --relative-to="$dir" "$TMP$target")" "$link"
	fixed=$((fixed + 1))
done < <(find "$TMP" -type l -lname '/*' -print0)
say "made $fixed absolute symlinks relative"

# Sanity: what the toolchain file and qemu rely on.
for f in "usr/lib/$TRIPLET/libc.so" "usr/lib/$TRIPLET/pkgconfig/libcurl.pc" \
	"usr/include/mbedtls/sha256.h" "usr/lib/$TRIPLET/libmbedcrypto.so"; do
	[ -e "$TMP/$f" ] || die "sysroot lacks $f"
done

echo "$want_stamp" >"$TMP/.libeas-sysroot"
rm -rf "$DEST"
mv "$TMP" "$DEST"
write_ini
say "done: $DEST ($(du -sh "$DEST" | cut -f1)), meson machine file $INI"
