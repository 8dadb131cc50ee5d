#!/usr/bin/env bash
# The embedding example of docs/client.md (samples/embed/connect_example),
# run for real against the companion server on loopback:
#   - eas-server on 127.0.0.1 with an ephemeral port and a user;
#   - the example connects (OPTIONS, Provision) and must print the version,
#     "ready", and exit 0;
#   - with a wrong password it must exit 1 with the server's refusal;
#   - with a policy file the example gets the policy, accepts it, and ends
#     with the final key;
#   - a remote wipe set with the admin command reaches it ("remote wipe").
#   - over HTTPS with a self-signed certificate (openssl from tools/deps.sh): it
#     refuses without the CA and connects with it.
# The server is stopped with SIGTERM and must exit 0.  Bounded: a watchdog
# ends the whole run after 60 s.
#
# Usage: connect_example.sh EAS_SERVER CONNECT_EXAMPLE
set -u
server=$1
example=$2
# shellcheck source=SCRIPTDIR/../support/e2e_lib.sh
. "$(dirname "$0")/../support/e2e_lib.sh"
e2e_init

e2e_watchdog 60 "the test took over 60 s"

data=$work/data
printf 'ex-Password-7\n' >"$work/pw"
"$server" user add alice --password-file "$work/pw" --data-dir "$data" >/dev/null || { echo "FAIL: user add"; exit 1; }

# start [extra serve args...]: runs eas-server, sets $eas (the EAS URL).
start() {
	if ! e2e_start_server "$work/out" "$work/err" --data-dir "$data" "$@"; then
		echo "FAIL: the server did not start"
		cat "$work/err"
		exit 1
	fi
	eas="$server_url/Microsoft-Server-ActiveSync"
}

# connect NAME DEVICE [CA_FILE]: runs the example with $password; status in $rc, output in $work/NAME.
connect() {
	local name=$1
	shift
	rc=0
	EAS_PASSWORD=$password timeout 30 "$example" "$eas" alice "$@" >"$work/$name" 2>&1 || rc=$?
}

# 1. Plain HTTP on loopback, no policy: connected and ready.
start
password=ex-Password-7
connect ok EXAMPLE1
[ "$rc" = 0 ] || fail "connect: exit status $rc"
grep -qx 'protocol version 16.1' "$work/ok" || grep -qx 'protocol version 14.1' "$work/ok" ||
	fail "connect: no protocol version line"
grep -qx 'ready' "$work/ok" || fail "connect: not ready"
grep -q '^policy key ' "$work/ok" || fail "connect: not provisioned"

# 2. A wrong password: refused, exit 1.
password=wrong-password
connect bad EXAMPLE1
[ "$rc" = 1 ] || fail "wrong password: exit status $rc, expected 1"
grep -q 'HTTP 401' "$work/bad" || fail "wrong password: no HTTP 401 in the output"
grep -qx 'ready' "$work/bad" && fail "wrong password: ready anyway"

# 3. A remote wipe ordered by the administrator reaches the device.
password=ex-Password-7
"$server" wipe alice EXAMPLE1 --data-dir "$data" >/dev/null 2>&1 || fail "eas-server wipe"
connect wipe EXAMPLE1
grep -q 'remote wipe requested' "$work/wipe" || fail "wipe: the example was not told"
e2e_stop_server

# 4. A policy: received, accepted, final key.
printf 'DevicePasswordEnabled=1\nMinDevicePasswordLength=6\n' >"$work/policy"
start --policy "$work/policy"
connect policy EXAMPLE2
[ "$rc" = 0 ] || fail "policy: exit status $rc"
grep -q '^policy: ' "$work/policy" || fail "policy: not shown"
grep -q 'MinDevicePasswordLength' "$work/policy" || fail "policy: MinDevicePasswordLength missing"
grep -qx 'ready' "$work/policy" || fail "policy: not ready"
grep -q '^policy key 0$' "$work/policy" && fail "policy: no real policy key"
e2e_stop_server

# 5. HTTPS with a self-signed certificate: refused without the CA, works with it.
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1 || fail "openssl req"
	start --tls-cert "$work/tls.crt" --tls-key "$work/tls.key"
	case "$eas" in https://*) ;; *) fail "TLS: $eas is not https" ;; esac
	connect notrust EXAMPLE3
	[ "$rc" = 1 ] || fail "TLS without the CA: exit status $rc, expected 1"
	grep -q 'TLS error' "$work/notrust" || fail "TLS without the CA: no TLS error shown"
	connect trust EXAMPLE3 "$work/tls.crt"
	[ "$rc" = 0 ] || fail "TLS with the CA: exit status $rc"
	grep -qx 'ready' "$work/trust" || fail "TLS with the CA: not ready"
	e2e_stop_server
else
	fail "the openssl command is missing (tools/deps.sh test)"
fi

# SHOW=1: print what the example said in each run.
if [ -n "${SHOW:-}" ]; then
	for f in ok bad wipe policy notrust trust; do
		[ -f "$work/$f" ] && { echo "--- $f"; cat "$work/$f"; }
	done
fi
grep -q 'ex-Password-7' "$work"/ok "$work"/bad "$work"/wipe "$work"/policy && fail "the password was printed"

if [ $failures -ne 0 ]; then
	for f in ok bad wipe policy notrust trust; do
		[ -f "$work/$f" ] && { echo "--- $f"; cat "$work/$f"; }
	done
	echo "--- server log"
	cat "$work/err"
	echo "$failures failure(s)"
	exit 1
fi
echo "connect_example: all checks passed"
