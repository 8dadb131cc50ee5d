#!/usr/bin/env bash
# The sync demo (tools/demo.sh runs it once the companion server can serve
# Sync): eas-server on 127.0.0.1 with a deterministic demo mailbox, the
# client (built on the public SDK API) provisioning and syncing everything,
# a new message delivered and picked up, then everything stopped.
# Usage: tools/demo-sync.sh BUILD_DIR [EMAILS]
set -euo pipefail
build=$1
emails=${2:-2000}
server=$build/samples/eas-server/eas-server
probe=$build/tests/interop/folder_sync_probe
connect=$build/samples/embed/connect_example

work=$(mktemp -d)
pid=
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

data=$work/data
printf 'demo-password\n' >"$work/pw"
export EAS_PASSWORD=demo-password

echo "== libeas demo: the companion server and the client on loopback =="
now() { date +%s.%N; }
t0=$(now)
"$server" user add demo --password-file "$work/pw" --data-dir "$data" >/dev/null
"$server" seed-demo demo --emails "$emails" --data-dir "$data" >/dev/null
t1=$(now)
awk -v n="$emails" -v a="$t0" -v b="$t1" 'BEGIN { printf "1. eas-server: demo mailbox with %s emails seeded in %.1f s\n", n, b - a }'

"$server" serve --listen 127.0.0.1:0 --data-dir "$data" >"$work/out" 2>"$work/err" &
pid=$!
url=
for _ in $(seq 1 100); do
	url=$(sed -n 's/^listening on //p' "$work/out")
	[ -n "$url" ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$url" ] || { echo "the server did not start:"; cat "$work/err"; exit 1; }
eas=$url/Microsoft-Server-ActiveSync
echo "2. serving $eas"

echo "3. the client connects (OPTIONS, Provision):"
"$connect" "$eas" demo DEMODEVICE1 | sed 's/^/   /'

echo "4. the client syncs the folder tree and every folder:"
s0=$(now)
"$probe" "$eas" demo DEMODEVICE1 --sync >"$work/sync1"
s1=$(now)
grep -E '^(protocol|foldersync|sync) ' "$work/sync1" | sed 's/^/   /'
items=$(awk '$1 == "sync" { for (i = 1; i < NF; i++) if ($i == "items") n += $(i + 1) } END { print n + 0 }' "$work/sync1")
awk -v n="$items" -v a="$s0" -v b="$s1" 'BEGIN { printf "   %d items in %.2f s (%.0f items/s)\n", n, b - a, n / (b - a) }'

if grep -q ' deliver ' <<<"$("$server" --help 2>&1 || true)"; then
	echo "5. a new message is delivered to the server..."
	cat >"$work/new.eml" <<'EML'
From: "Libeas Demo" <demo-sender@example.com>
To: demo@example.com
Subject: Hello from the delivery step
Date: Tue, 24 Nov 2026 09:00:00 +0000

This message was delivered while the server was running.
EML
	"$server" deliver demo "$work/new.eml" --data-dir "$data" >/dev/null
	"$probe" "$eas" demo DEMODEVICE2 --sync >"$work/sync2"
	after=$(awk '$1 == "sync" { for (i = 1; i < NF; i++) if ($i == "items") n += $(i + 1) } END { print n + 0 }' "$work/sync2")
	echo "   a second device now syncs $after items (one more than $items)"
	[ "$after" -eq $((items + 1)) ] || { echo "the delivered message did not arrive"; exit 1; }
else
	echo "5. (delivery and push join the demo with eas-server deliver and eas-sync push)"
fi

kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=
echo "6. server stopped; nothing left running"
echo "demo complete"
