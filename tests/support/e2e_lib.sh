# shellcheck shell=bash
# Shared harness of the shell tests that run eas-server on loopback
# (tests/e2e/server_smoke.sh, tests/e2e/connect_example.sh,
# tests/cli/eas_sync_cli.sh).  Sourced, never run: each script does
#   . "$(dirname "$0")/../support/e2e_lib.sh"
# which works from any build dir, since meson hands bash the script's path in
# the source tree.  Bash only (arrays, local); safe under `set -u`.
#
# Functions, and the variables they set:
#   e2e_init
#       Makes the temporary work directory $work, sets failures=0, and installs
#       an EXIT trap that stops the watchdog, SIGKILLs every tracked process
#       still alive (e2e_pids) and removes $work.
#   fail MESSAGE...
#       Prints "FAIL: MESSAGE" and counts it in $failures; the run goes on.
#   e2e_require COMMAND MESSAGE
#       Exits 1 with "FAIL: MESSAGE" when COMMAND is not installed: a missing
#       tool fails the test, it never skips into green.
#   e2e_watchdog SECONDS MESSAGE
#       Ends the whole script (SIGTERM to it) after SECONDS, printing
#       "FAIL: watchdog: MESSAGE".  Sets e2e_watchdog_pid.
#   e2e_track PID
#       Adds a background process to e2e_pids, killed at exit if still alive.
#   e2e_start_server OUT ERR [serve options...]
#       Runs `$server serve --listen 127.0.0.1:0 [options]` in the background
#       ($server: the eas-server binary, set by the caller), stdout to OUT and
#       stderr to ERR, and waits up to 10 s for its "listening on URL" line.
#       Sets server_pid (also tracked) and server_url (the base URL, "" when
#       the server did not start); returns 1 when it did not start.
#       Not for use in a $(...) subshell: the pid must reach this shell.
#   e2e_stop_server [WHAT]
#       SIGTERMs server_pid and waits for it; a nonzero exit status is a
#       failure "WHAT exited with status N" (WHAT defaults to "the server").
#       Sets server_rc and clears server_pid.

e2e_pids=()
e2e_watchdog_pid=
server_pid=
server_url=
server_rc=0

e2e_cleanup() {
	local p
	[ -n "$e2e_watchdog_pid" ] && kill "$e2e_watchdog_pid" 2>/dev/null
	for p in ${e2e_pids[@]+"${e2e_pids[@]}"}; do
		kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$work"
}

e2e_init() {
	work=$(mktemp -d)
	failures=0
	trap e2e_cleanup EXIT
}

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

e2e_require() {
	command -v "$1" >/dev/null || { echo "FAIL: $2"; exit 1; }
}

e2e_watchdog() {
	local seconds=$1 message=$2
	# sleep's own descriptors point away from the test's output pipe, so the
	# harness does not wait for it once the script is done.
	# shellcheck disable=SC2217
	(sleep "$seconds" </dev/null >/dev/null 2>&1 && echo "FAIL: watchdog: $message" && kill -TERM $$) &
	e2e_watchdog_pid=$!
}

e2e_track() {
	e2e_pids+=("$1")
}

e2e_start_server() {
	local out=$1 err=$2
	shift 2
	# shellcheck disable=SC2154 # $server is set by the sourcing script
	"$server" serve --listen 127.0.0.1:0 "$@" >"$out" 2>"$err" &
	server_pid=$!
	e2e_track "$server_pid"
	server_url=
	for _ in $(seq 1 100); do
		server_url=$(sed -n 's/^listening on //p' "$out")
		[ -n "$server_url" ] && break
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$server_url" ]
}

e2e_stop_server() {
	local what=${1:-the server} p kept=()
	kill -TERM "$server_pid"
	server_rc=0
	wait "$server_pid" || server_rc=$?
	# reaped: drop it from the list so the exit trap never signals a reused pid
	for p in ${e2e_pids[@]+"${e2e_pids[@]}"}; do
		[ "$p" = "$server_pid" ] || kept+=("$p")
	done
	e2e_pids=(${kept[@]+"${kept[@]}"})
	server_pid=
	[ "$server_rc" = 0 ] || fail "$what exited with status $server_rc"
}
