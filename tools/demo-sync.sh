#!/usr/bin/env bash
# The sync demo (README command 1, through tools/demo.sh): eas-server on
# 127.0.0.1 with a deterministic demo mailbox, eas-sync (the sample client,
# built on the public SDK API) syncing all of it with its progress bar, a new
# message delivered to the running server and picked up by eas-sync push,
# a summary, and everything stopped again.
#
# Usage: tools/demo-sync.sh BUILD_DIR [EMAILS]
# EMAILS (default: $DEMO_EMAILS, else 2000) sets the size of the mailbox;
# the test suite runs it with 200 (tests/e2e/meson.build).
set -euo pipefail
build=$1
emails=${2:-${DEMO_EMAILS:-2000}}
server=$build/samples/eas-server/eas-server
sync=$build/samples/eas-sync/eas-sync
for f in "$server" "$sync"; do
	[ -x "$f" ] || { echo "demo: $f is not built" >&2; exit 1; }
done

work=$(mktemp -d)
pid= push_pid=
stop() {  # stop PID: SIGTERM, then SIGKILL after 5 s
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
	stop "$push_pid"
	stop "$pid"
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

data=$work/server
printf 'demo-password\n' >"$work/pw"
now() { date +%s.%N; }

echo "== libeas demo: eas-server and eas-sync on loopback =="
t0=$(now)
"$server" user add demo --password-file "$work/pw" --data-dir "$data" >/dev/null
"$server" seed-demo demo --emails "$emails" --data-dir "$data" >/dev/null
t1=$(now)
awk -v n="$emails" -v a="$t0" -v b="$t1" \
	'BEGIN { printf "1. eas-server: a demo mailbox of %d emails (Inbox and three folders) seeded in %.1f s\n", n, b - a }'

"$server" serve --listen 127.0.0.1:0 --data-dir "$data" --quiet >"$work/server.out" 2>"$work/server.err" &
pid=$!
base=
for _ in $(seq 1 100); do
	base=$(sed -n 's/^listening on //p' "$work/server.out")
	[ -n "$base" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$base" ] || { echo "the server did not start:"; cat "$work/server.err"; exit 1; }
url=$base/Microsoft-Server-ActiveSync
echo "2. serving $url"

# Loopback only: plain http with --insecure-http (a real server is https, verified).
acct=(--server "$url" --insecure-http --user demo --password-file "$work/pw" --data-dir "$work/client")

echo "3. eas-sync sync: OPTIONS, Provision, FolderSync, then Sync of every folder"
echo "   \$ eas-sync sync --server $url --insecure-http --user demo --password-file pw"
"$sync" sync "${acct[@]}" | tee "$work/sync.out" | sed 's/^/   /'
summary=$(grep '^synced ' "$work/sync.out")
new=$(sed -E 's/.*: ([0-9]+) new,.*/\1/' <<<"$summary")
[ "$new" -eq "$emails" ] || { echo "demo: synced $new items, expected $emails" >&2; exit 1; }

echo "4. eas-sync list Inbox --limit 3 (from the local store, no network):"
"$sync" list Inbox --limit 3 --data-dir "$work/client" | sed 's/^/   /'

echo "5. eas-sync push waits in Ping; a new message is delivered to the server:"
"$sync" push "${acct[@]}" --json --count 1 --for 30 >"$work/push.json" 2>"$work/push.err" &
push_pid=$!
for _ in $(seq 1 200); do
	grep -q '"event":"listening"' "$work/push.json" && break
	kill -0 "$push_pid" 2>/dev/null || break
	sleep 0.05
done
grep -q '"event":"listening"' "$work/push.json" || { echo "push did not start:"; cat "$work/push.err"; exit 1; }
cat >"$work/new.eml" <<'EML'
From: "Libeas Demo" <demo-sender@example.com>
To: demo@example.test
Subject: Hello from the delivery step
Date: Tue, 24 Nov 2026 09:00:00 +0000
Message-ID: <delivery-step@example.com>

This message was delivered while eas-sync was waiting in Ping.
EML
echo "   \$ eas-server deliver demo new.eml"
delivered_at=$(now)
"$server" deliver demo "$work/new.eml" --data-dir "$data" | sed 's/^/   /'
rc=0
wait "$push_pid" || rc=$?
push_pid=
[ $rc -eq 0 ] || { echo "push failed (exit $rc):"; cat "$work/push.err"; exit 1; }
line=$(grep '"event":"new"' "$work/push.json" | head -1)
[ -n "$line" ] || { echo "push ended without the new message:"; cat "$work/push.json" "$work/push.err"; exit 1; }
arrived_at=$(sed -E 's/.*"time":([0-9.]+).*/\1/' <<<"$line")
subject=$(sed -E 's/.*"subject":"([^"]*)".*/\1/' <<<"$line")
latency=$(awk -v a="$delivered_at" -v b="$arrived_at" 'BEGIN { printf "%.2f", b - a }')
echo "   push received \"$subject\" $latency s after the delivery"
awk -v l="$latency" 'BEGIN { exit !(l < 1.0) }' || echo "   (slower than one second on this machine)"

stop "$pid"
wait "$pid" 2>/dev/null || true
left=
kill -0 "$pid" 2>/dev/null && left=server
pid=
[ -z "$left" ] || { echo "demo: the $left is still running" >&2; exit 1; }

echo "6. summary"
sed -E 's/^synced ([0-9]+) folders: ([0-9]+) new, [0-9]+ changed, [0-9]+ deleted; (.*) in ([0-9.]+) s \(([0-9]+) items\/s, (.*)\/s\)$/   synced \2 items from \1 folders: \3 in \4 s, \5 items\/s (\6\/s)/' <<<"$summary"
echo "   push: 1 new message within $latency s of its delivery"
echo "   server stopped; nothing left running"
echo "demo complete"
