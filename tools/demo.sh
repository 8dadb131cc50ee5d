#!/usr/bin/env bash
# README command 1: the main job.
#
# Builds libeas (build/demo) if needed, then runs tools/demo-sync.sh:
# eas-server on 127.0.0.1 with a demo mailbox (DEMO_EMAILS, default 2000),
# eas-sync syncing it with its progress bar, a delivered message arriving by
# push, a summary.  A build without the client or the server (curl, sqlite or
# server disabled) shows the WBXML codec instead.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh build
build=build/demo
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" -Dbuildtype=release >/dev/null
fi
ninja -C "$build" >/dev/null
bin=$build/samples

# The sync demo needs eas-sync and the server's seed-demo and deliver commands.
server_help=$("$bin/eas-server/eas-server" --help 2>&1 || true)
if [ -x "$bin/eas-sync/eas-sync" ] && grep -q seed-demo <<<"$server_help" && grep -q ' deliver ' <<<"$server_help"; then
	exec tools/demo-sync.sh "$build" "${DEMO_EMAILS:-${LIBEAS_DEMO_EMAILS:-2000}}"
fi

wbxml=$bin/eas-wbxml/eas-wbxml
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== libeas $(git describe --always --dirty 2>/dev/null || echo) — WBXML codec demo =="
echo "(the sync client and companion server demo replaces this as they land)"
echo
src=tests/data/wbxml/sync-response-email.xml
echo "1. A Sync response with an email, as XML: $src ($(wc -c <"$src") bytes)"
"$wbxml" encode "$src" >"$work/sync.wbxml"
echo "2. Encoded to ActiveSync WBXML: $(wc -c <"$work/sync.wbxml") bytes; first bytes:"
od -A d -t x1 "$work/sync.wbxml" | head -3
echo "3. Decoded back, fed to the streaming decoder:"
"$wbxml" decode "$work/sync.wbxml" >"$work/sync.xml"
head -25 "$work/sync.xml"
echo "   ..."
"$wbxml" decode --compact "$work/sync.wbxml" >"$work/a.xml"
"$wbxml" encode "$work/a.xml" >"$work/again.wbxml"
if cmp -s "$work/sync.wbxml" "$work/again.wbxml"; then
	echo "4. Round trip XML -> WBXML -> XML -> WBXML: identical bytes"
else
	echo "4. Round trip differs" >&2
	exit 1
fi
echo "5. A device's base64-encoded request line (MS-ASHTTP), decoded:"
"$wbxml" query decode 'jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l'
echo "6. A truncated document is refused with its offset:"
head -c 40 "$work/sync.wbxml" >"$work/cut.wbxml"
if "$wbxml" decode "$work/cut.wbxml" >/dev/null 2>"$work/err"; then
	echo "   truncated input was accepted" >&2
	exit 1
fi
sed 's/^/   /' "$work/err"
echo
echo "demo complete"
