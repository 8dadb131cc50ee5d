#!/usr/bin/env bash
# run.sh — interoperability tests of our client against SOGo 5.8 (Debian 12's
# sogo + sogo-activesync), an ActiveSync server nobody on this project wrote.
#
#   tests/interop/run.sh [BUILD_DIR]      (default: build/native)
#
# Installs and configures SOGo with PostgreSQL, Dovecot and memcached on
# loopback (tests/interop/sogo/setup.sh), starts it, runs OUR binaries from
# BUILD_DIR against it, and stops everything again, also after a failure.
# Exit status: 0 when every check passed, 1 otherwise (also when the server
# cannot be set up: this never turns into a skip).  Needs root, or sudo
# without a password (then it re-runs itself through sudo).
#
# Environment: SOGO_BASE (default ${TMPDIR:-/tmp}/libeas-sogo) and the ports
# of tests/interop/sogo/common.sh; INTEROP_KEEP=1 leaves the server running
# for manual poking (stop it with tests/interop/sogo/stop.sh).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-build/native}
case $build in /*) ;; *) build=$root/$build ;; esac

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		exec sudo -n --preserve-env=SOGO_BASE,TMPDIR,PG_PORT,IMAP_PORT,MC_PORT,SOGO_PORT,INTEROP_KEEP \
			"$0" "$build"
	fi
	echo "interop: FAILED: needs root to install and start SOGo, PostgreSQL, Dovecot and memcached" >&2
	echo "interop: run as root, or give this user passwordless sudo" >&2
	exit 1
fi

. "$here/sogo/common.sh"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { printf '%d.%d s' $(( $1 / 1000 )) $(( $1 % 1000 / 100 )); }

connect=$build/samples/embed/connect_example
probe=$build/tests/interop/folder_sync_probe
wbxml=$build/samples/eas-wbxml/eas-wbxml
easync=$build/samples/eas-sync/eas-sync
for f in "$connect" "$probe" "$wbxml" "$easync"; do
	if [ ! -x "$f" ]; then
		echo "interop: FAILED: $f not built (build $build with curl enabled first)" >&2
		exit 1
	fi
done

out=$SOGO_BASE/results
passed=0 failed=0
pass() { echo "PASS  $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }
# show FILE: a failed check's output, indented
show() { sed 's/^/      | /' "$1"; }

t_start=$(now_ms)
echo "=== interop: SOGo setup"
if ! "$here/sogo/setup.sh"; then
	echo "interop: FAILED: SOGo setup failed" >&2
	exit 1
fi
t_setup=$(( $(now_ms) - t_start ))

stop_server() {
	local rc=$?
	if [ "${INTEROP_KEEP:-0}" = 1 ]; then
		echo "interop: server left running at $EAS_URL (stop: $here/sogo/stop.sh)"
	else
		"$here/sogo/stop.sh" || rc=1
	fi
	exit $rc
}
trap stop_server EXIT
trap 'exit 130' INT TERM

echo "=== interop: SOGo start"
t0=$(now_ms)
if ! "$here/sogo/start.sh"; then
	echo "interop: FAILED: SOGo did not start" >&2
	exit 1
fi
t_startup=$(( $(now_ms) - t0 ))

rm -rf "$out"
mkdir -p "$out/alice-responses"
dev=libeas$$
t0=$(now_ms)
echo "=== interop: our client against $EAS_URL"

# 1. connect_example: OPTIONS (+ Provision when offered); 14.1 is the highest SOGo offers.
EAS_PASSWORD=alicepass timeout 120 "$connect" "$EAS_URL" alice "${dev}a" >"$out/connect.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qx 'protocol version 14.1' "$out/connect.out" && grep -qx 'ready' "$out/connect.out"; then
	pass "connect_example: negotiated 14.1, ready"
else
	fail "connect_example alice: exit $rc, expected 0 with 'protocol version 14.1' and 'ready'"
	show "$out/connect.out"
fi

# 2. A wrong password: exit 1 with an authentication message, no retry loop.
EAS_PASSWORD=wrongpass timeout 60 "$connect" "$EAS_URL" alice "${dev}a" >"$out/badpass.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -qiE 'authentication|credentials' "$out/badpass.out" && ! grep -qx ready "$out/badpass.out"; then
	pass "connect_example with a wrong password: exit 1, '$(grep -m1 '^error:' "$out/badpass.out" | sed 's/^error: //')'"
else
	fail "connect_example with a wrong password: exit $rc, expected 1 with an authentication message"
	show "$out/badpass.out"
fi

# 3. An unknown user: the same refusal.
EAS_PASSWORD=whatever timeout 60 "$connect" "$EAS_URL" mallory "${dev}m" >"$out/nouser.out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -qiE 'authentication|credentials' "$out/nouser.out"; then
	pass "connect_example with an unknown user: exit 1, refused"
else
	fail "connect_example with an unknown user: exit $rc, expected 1 with an authentication message"
	show "$out/nouser.out"
fi

# 4-7. FolderSync and Sync of Inbox, Contacts, Calendar through the public session API.
EAS_PASSWORD=alicepass timeout 300 "$probe" "$EAS_URL" alice "${dev}p" --sync \
	--save "$out/alice-responses" >"$out/probe-alice.out" 2>&1
rc=$?
sed 's/^/      /' "$out/probe-alice.out"
folder() { grep -E "^folder type $1 " "$out/probe-alice.out" | head -1 | sed 's/.* name //'; }
if [ $rc = 0 ] && grep -qE '^foldersync status 1 ' "$out/probe-alice.out" &&
	[ "$(folder 2)" = INBOX ] && [ -n "$(folder 9)" ] && [ -n "$(folder 8)" ]; then
	pass "folder_sync_probe: FolderSync status 1, $(grep -c '^folder ' "$out/probe-alice.out") folders: Inbox '$(folder 2)', Contacts '$(folder 9)', Calendar '$(folder 8)'"
else
	fail "folder_sync_probe: exit $rc, expected FolderSync status 1 listing INBOX (type 2), Contacts (9), Calendar (8)"
	[ $rc = 0 ] || show "$out/probe-alice.out"
fi
# sync_items LABEL: items reported for a folder, or "none"
sync_items() { grep -E "^sync $1 .* status 1 items " "$out/probe-alice.out" | sed -E 's/.* items ([0-9]+) .*/\1/' | head -1; }
check_sync() {  # LABEL EXPECTED WHAT
	local n
	n=$(sync_items "$1")
	if [ "${n:-none}" = "$2" ]; then
		pass "Sync $1: all $2 seeded $3 (first: $(grep -E "^sync $1 " "$out/probe-alice.out" | sed 's/.* first //'))"
	else
		fail "Sync $1: ${n:-no result} items, expected the $2 seeded $3"
	fi
}
check_sync Inbox "$SEED_MESSAGES" messages
check_sync Contacts "$SEED_CONTACTS" contacts
check_sync Calendar "$SEED_EVENTS" events

# 8. A second account on the same server.
EAS_PASSWORD=bobpass timeout 120 "$probe" "$EAS_URL" bob "${dev}b" >"$out/probe-bob.out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qE '^foldersync status 1 ' "$out/probe-bob.out" && grep -qE '^folder type 2 .* name INBOX$' "$out/probe-bob.out"; then
	pass "folder_sync_probe bob: FolderSync status 1, $(grep -c '^folder ' "$out/probe-bob.out") folders"
else
	fail "folder_sync_probe bob: exit $rc"
	show "$out/probe-bob.out"
fi

# 9. Our decoder agrees with libwbxml on every body SOGo sent.
python3 "$here/wbxml_agree.py" "$wbxml" "$(command -v wbxml2xml || echo wbxml2xml)" "$out/alice-responses" >"$out/agree.out" 2>&1
rc=$?
if [ $rc = 0 ]; then
	pass "eas-wbxml and libwbxml decode SOGo's $(grep -c '^ok ' "$out/agree.out") responses alike"
else
	fail "eas-wbxml and libwbxml disagree on SOGo's responses"
	show "$out/agree.out"
fi

# 10-15. eas-sync, the sample client: sync everything, push, a local change.
. "$here/eas_sync_sogo.sh"
t_checks=$(( $(now_ms) - t0 ))

echo "=== interop: timings: setup $(secs "$t_setup"), start $(secs "$t_startup"), checks $(secs "$t_checks")"
echo "interop: $passed passed, $failed failed (SOGo $(dpkg-query -W -f='${Version}' sogo 2>/dev/null); results in $out)"
[ $failed = 0 ] && [ $passed -gt 0 ]
