#!/usr/bin/env bash
# eas-server end to end on loopback: starts the server on 127.0.0.1 with an
# ephemeral port (--listen 127.0.0.1:0, the port read from its "listening on"
# line) in a temporary data directory, creates a user, and talks to it with
# the curl CLI, the WBXML bodies made by eas-wbxml encode:
#   OPTIONS headers, 401 without credentials, Provision in two phases,
#   FolderSync 0 (the ten default folders), FolderCreate on the key chain,
#   400 on a garbage body, 501 on an unknown command, 413 on an oversize
#   body, a Ping parked and woken by a FolderCreate of another device, a
#   Ping woken within a second by `eas-server deliver` run as another
#   process, SendMail between two local users, `import` of a Maildir and an
#   mbox with their counts, a wipe and a bearer token from the admin commands...
# then stops the server with SIGTERM and checks it exited cleanly (status 0)
# and answered the Ping it still held; then the same over HTTPS with a
# self-signed certificate and a policy file (openssl from tools/deps.sh).
# Bounded: every curl has a time limit, the whole script a watchdog.
#
# Usage: server_smoke.sh EAS_SERVER EAS_WBXML
set -u
server=$1
wbxml=$2
# shellcheck source=SCRIPTDIR/../support/e2e_lib.sh
. "$(dirname "$0")/../support/e2e_lib.sh"
e2e_init

# tools/deps.sh installs curl: without it this test fails rather than skipping into green.
e2e_require curl "the curl command is missing (tools/deps.sh test)"

# Watchdog: the whole run must end within 60 s.
e2e_watchdog 60 "the smoke test took over 60 s"

data=$work/data
printf 'correct horse\n' >"$work/pw"
"$server" user add alice --password-file "$work/pw" --data-dir "$data" >/dev/null || { echo "FAIL: user add"; exit 1; }
"$server" user list --data-dir "$data" | grep -qx alice || fail "user list lacks alice"
"$server" user add alice --password-file "$work/pw" --data-dir "$data" 2>/dev/null && fail "adding alice twice succeeded"

if ! e2e_start_server "$work/out" "$work/err" --data-dir "$data" --max-body 65536; then
	echo "FAIL: the server did not say it was listening"
	cat "$work/err"
	exit 1
fi
url=$server_url
case "$url" in
http://127.0.0.1:[0-9]*) ;;
*) fail "unexpected listening line: $url" ;;
esac
eas="$url/Microsoft-Server-ActiveSync"
auth=(-u 'alice:correct horse')

# request NAME XML [extra curl args...]: POSTs the WBXML of XML for command
# NAME as device $device (default SMOKE1); the status in $work/code, headers
# in $work/headers, body decoded to XML in $work/body.xml (empty when the body
# is not WBXML).
request() {
	local cmd=$1 xml=$2
	shift 2
	printf '%s' "$xml" >"$work/req.xml"
	"$wbxml" encode "$work/req.xml" >"$work/req.wbxml" || { fail "eas-wbxml encode for $cmd"; return; }
	curl -sS --max-time 20 -o "$work/body" -D "$work/headers" -w '%{http_code}' "${auth[@]}" \
		-H 'MS-ASProtocolVersion: 14.1' -H 'Content-Type: application/vnd.ms-sync.wbxml' \
		--data-binary @"$work/req.wbxml" "$@" \
		"$eas?Cmd=$cmd&User=alice&DeviceId=${device:-SMOKE1}&DeviceType=SmartPhone" >"$work/code" 2>"$work/curl.err"
	"$wbxml" decode --compact "$work/body" >"$work/body.xml" 2>/dev/null || : >"$work/body.xml"
}
code() { cat "$work/code"; }
body_has() { grep -q -- "$1" "$work/body.xml"; }
value_of() { sed -n "s|.*<$1>\([^<]*\)</$1>.*|\1|p" "$work/body.xml" | head -1; }

# OPTIONS
c=$(curl -sS --max-time 10 -o /dev/null -D "$work/h" -w '%{http_code}' -X OPTIONS "${auth[@]}" "$eas")
[ "$c" = 200 ] || fail "OPTIONS -> $c"
grep -qi '^MS-ASProtocolVersions: 2.5,12.0,12.1,14.0,14.1,16.0,16.1' "$work/h" || fail "OPTIONS: MS-ASProtocolVersions"
grep -qi '^MS-ASProtocolCommands: .*FolderSync.*Provision' "$work/h" || fail "OPTIONS: MS-ASProtocolCommands"
grep -qi '^MS-Server-ActiveSync: ' "$work/h" || fail "OPTIONS: MS-Server-ActiveSync"

# 401 without credentials, and with a wrong password
c=$(curl -sS --max-time 10 -o /dev/null -D "$work/h" -w '%{http_code}' -X OPTIONS "$eas")
[ "$c" = 401 ] || fail "no credentials -> $c"
grep -qi '^WWW-Authenticate: Basic realm="ActiveSync"' "$work/h" || fail "401 without WWW-Authenticate"
c=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X OPTIONS -u 'alice:wrong' "$eas")
[ "$c" = 401 ] || fail "wrong password -> $c"

# Provision, two phases
request Provision '<Provision xmlns="Provision:" xmlns:s="Settings:"><s:DeviceInformation><s:Set><s:Model>smoke</s:Model></s:Set></s:DeviceInformation><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>'
[ "$(code)" = 200 ] || fail "Provision (initial) -> $(code)"
body_has '<EASProvisionDoc' || fail "Provision (initial): no EASProvisionDoc"
temp=$(value_of PolicyKey)
[ -n "$temp" ] || fail "Provision (initial): no PolicyKey"
request Provision "<Provision xmlns=\"Provision:\"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>$temp</PolicyKey><Status>1</Status></Policy></Policies></Provision>" -H "X-MS-PolicyKey: $temp"
[ "$(code)" = 200 ] || fail "Provision (ack) -> $(code)"
key=$(value_of PolicyKey)
[ -n "$key" ] && [ "$key" != "$temp" ] || fail "Provision (ack): no final key"
"$server" devices alice --data-dir "$data" | grep -q 'SMOKE1.*model=smoke.*policy=provisioned' || fail "devices: SMOKE1 not provisioned"

# FolderSync 0: the default folders
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
[ "$(code)" = 200 ] || fail "FolderSync -> $(code)"
[ "$(value_of Status)" = 1 ] || fail "FolderSync status $(value_of Status)"
[ "$(grep -o '<Add>' "$work/body.xml" | wc -l)" -eq 10 ] || fail "FolderSync 0: not 10 folders"
for name in Inbox Drafts 'Deleted Items' 'Sent Items' Outbox Tasks Calendar Contacts Notes Journal; do
	body_has "<DisplayName>$name</DisplayName>" || fail "FolderSync 0: no $name"
done
grep -qi '^Content-Type: application/vnd.ms-sync.wbxml' "$work/headers" || fail "FolderSync: Content-Type"
fkey=$(value_of SyncKey)
inbox=$(sed -n 's|.*<ServerId>\([^<]*\)</ServerId><ParentId>0</ParentId><DisplayName>Inbox</DisplayName>.*|\1|p' "$work/body.xml")
[ -n "$inbox" ] || fail "no Inbox ServerId"

# FolderCreate on the key chain; a stale key gets Status 9
request FolderCreate "<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$fkey</SyncKey><ParentId>0</ParentId><DisplayName>Smoke</DisplayName><Type>12</Type></FolderCreate>" -H "X-MS-PolicyKey: $key"
[ "$(value_of Status)" = 1 ] || fail "FolderCreate status $(value_of Status)"
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>{stale}1</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
[ "$(value_of Status)" = 9 ] || fail "FolderSync with a stale key: status $(value_of Status)"

# 400 garbage body, 501 unknown command, 413 oversize body
printf 'not wbxml at all' >"$work/garbage"
c=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${auth[@]}" -H 'MS-ASProtocolVersion: 14.1' \
	-H "X-MS-PolicyKey: $key" --data-binary @"$work/garbage" "$eas?Cmd=FolderSync&User=alice&DeviceId=SMOKE1&DeviceType=SmartPhone")
[ "$c" = 400 ] || fail "garbage body -> $c"
c=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${auth[@]}" -H 'MS-ASProtocolVersion: 14.1' \
	--data-binary @"$work/garbage" "$eas?Cmd=Teleport&User=alice&DeviceId=SMOKE1&DeviceType=SmartPhone")
[ "$c" = 501 ] || fail "unknown command -> $c"
head -c 200000 /dev/zero >"$work/big"
c=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${auth[@]}" -H 'MS-ASProtocolVersion: 14.1' \
	-H 'Expect:' --data-binary @"$work/big" "$eas?Cmd=FolderSync&User=alice&DeviceId=SMOKE1&DeviceType=SmartPhone" 2>/dev/null)
[ "$c" = 413 ] || fail "oversize body -> $c"
c=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "${auth[@]}" "$url/nowhere")
[ "$c" = 404 ] || fail "unknown path -> $c"

# Ping: parked, then woken by another device's FolderCreate (no polling: at once)
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
printf '%s' "<Ping xmlns=\"Ping:\"><HeartbeatInterval>60</HeartbeatInterval><Folders><Folder><Id>$inbox</Id><Class>Email</Class></Folder></Folders></Ping>" >"$work/ping.xml"
"$wbxml" encode "$work/ping.xml" >"$work/ping.wbxml"
start=$(date +%s)
curl -sS --max-time 30 -o "$work/ping.body" -w '%{http_code}' "${auth[@]}" -H 'MS-ASProtocolVersion: 14.1' \
	--data-binary @"$work/ping.wbxml" "$eas?Cmd=Ping&User=alice&DeviceId=SMOKE1&DeviceType=SmartPhone" >"$work/ping.code" &
ping_pid=$!
for _ in $(seq 1 50); do
	grep -q 'Ping user=alice device=SMOKE1 .*http=held' "$work/err" && break
	sleep 0.1
done
grep -q 'http=held' "$work/err" || fail "the Ping was not parked"
kill -0 $ping_pid 2>/dev/null || fail "the Ping returned before any change"
# another device provisions, syncs the hierarchy and creates a folder
dev2() {
	local cmd=$1 xml=$2
	shift 2
	printf '%s' "$xml" >"$work/d2.xml"
	"$wbxml" encode "$work/d2.xml" >"$work/d2.wbxml"
	curl -sS --max-time 10 -o "$work/d2.body" "${auth[@]}" -H 'MS-ASProtocolVersion: 14.1' "$@" \
		--data-binary @"$work/d2.wbxml" "$eas?Cmd=$cmd&User=alice&DeviceId=SMOKE2&DeviceType=SmartPhone"
	"$wbxml" decode --compact "$work/d2.body" 2>/dev/null
}
k2=$(dev2 FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' | sed -n 's|.*<SyncKey>\([^<]*\)</SyncKey>.*|\1|p')
dev2 FolderCreate "<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>$k2</SyncKey><ParentId>0</ParentId><DisplayName>From two</DisplayName><Type>12</Type></FolderCreate>" | grep -q '<Status>1</Status>' || fail "FolderCreate from SMOKE2"
wait $ping_pid
elapsed=$(($(date +%s) - start))
[ "$(cat "$work/ping.code")" = 200 ] || fail "Ping -> $(cat "$work/ping.code")"
"$wbxml" decode --compact "$work/ping.body" 2>/dev/null | grep -q '<Status>7</Status>' || fail "woken Ping: not Status 7 (hierarchy changed)"
[ "$elapsed" -lt 20 ] || fail "the Ping was not woken by the change (took ${elapsed}s)"

# Mail intake (h4), all in bob's mailbox so alice's devices see nothing new: `deliver`
# from another process wakes bob's held Ping at once (a notice on DATA-DIR/notify.sock),
# SendMail from alice lands in bob's Inbox, `import` of a Maildir and an mbox counts.
"$server" user add bob --password-file "$work/pw" --data-dir "$data" >/dev/null || fail "user add bob"
bob() {
	local cmd=$1 xml=$2
	shift 2
	printf '%s' "$xml" >"$work/bob.xml"
	"$wbxml" encode "$work/bob.xml" >"$work/bob.wbxml" || { fail "eas-wbxml encode for bob's $cmd"; return; }
	curl -sS --max-time 20 -o "$work/bob.body" -w '%{http_code}' -u 'bob:correct horse' -H 'MS-ASProtocolVersion: 14.1' \
		--data-binary @"$work/bob.wbxml" "$@" "$eas?Cmd=$cmd&User=bob&DeviceId=BOB1&DeviceType=SmartPhone" \
		>"$work/bob.code" 2>>"$work/curl.err"
	"$wbxml" decode --compact "$work/bob.body" >"$work/bob.body.xml" 2>/dev/null || : >"$work/bob.body.xml"
}
bob FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>'
binbox=$(sed -n 's|.*<ServerId>\([^<]*\)</ServerId><ParentId>0</ParentId><DisplayName>Inbox</DisplayName>.*|\1|p' "$work/bob.body.xml")
[ -n "$binbox" ] || fail "bob: no Inbox in FolderSync"
printf '%s' "<Ping xmlns=\"Ping:\"><HeartbeatInterval>60</HeartbeatInterval><Folders><Folder><Id>$binbox</Id><Class>Email</Class></Folder></Folders></Ping>" >"$work/bping.xml"
"$wbxml" encode "$work/bping.xml" >"$work/bping.wbxml"
curl -sS --max-time 30 -o "$work/bping.body" -w '%{http_code}' -u 'bob:correct horse' -H 'MS-ASProtocolVersion: 14.1' \
	--data-binary @"$work/bping.wbxml" "$eas?Cmd=Ping&User=bob&DeviceId=BOB1&DeviceType=SmartPhone" >"$work/bping.code" &
bping_pid=$!
for _ in $(seq 1 50); do
	grep -q 'Ping user=bob device=BOB1 .*http=held' "$work/err" && break
	sleep 0.1
done
grep -q 'Ping user=bob device=BOB1 .*http=held' "$work/err" || fail "bob's Ping was not parked"
printf 'From: Carla <carla@example.test>\r\nTo: bob@localhost\r\nSubject: =?utf-8?q?Delivered_while_serving?=\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n\r\nhello\r\n' >"$work/m.eml"
t0=$(date +%s%N)
"$server" deliver bob "$work/m.eml" --data-dir "$data" >"$work/deliver.out" 2>&1 || fail "deliver: $(cat "$work/deliver.out")"
wait $bping_pid
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
grep -q '^delivered to bob/Inbox as .*(server notified)' "$work/deliver.out" || fail "deliver did not notify the server: $(cat "$work/deliver.out")"
[ "$(cat "$work/bping.code")" = 200 ] || fail "bob's Ping -> $(cat "$work/bping.code")"
"$wbxml" decode --compact "$work/bping.body" 2>/dev/null | grep -q "<Status>2</Status><Folders><Folder>$binbox</Folder>" ||
	fail "bob's Ping after deliver: not Status 2 with his Inbox"
[ "$ms" -lt 1000 ] || fail "deliver -> Ping answer took ${ms} ms (no notice?)"
"$server" deliver bob "$work/garbage" --data-dir "$data" >/dev/null 2>&1 && fail "deliver accepted a file that is no message"
m64=$(printf 'To: Bob <bob@localhost>\r\nBcc: nobody@elsewhere.test\r\nSubject: Lunch from alice\r\n\r\nNoon?\r\n' | base64 -w0)
request SendMail "<SendMail xmlns=\"ComposeMail:\"><ClientId>smoke-1</ClientId><SaveInSentItems/><Mime>$m64</Mime></SendMail>" -H "X-MS-PolicyKey: $key"
[ "$(code)" = 200 ] && [ ! -s "$work/body" ] || fail "SendMail -> $(code) $(cat "$work/body.xml")"
request SendMail "<SendMail xmlns=\"ComposeMail:\"><ClientId>smoke-1</ClientId><Mime>$m64</Mime></SendMail>" -H "X-MS-PolicyKey: $key"
[ "$(value_of Status)" = 118 ] || fail "SendMail with a ClientId already used: status $(value_of Status)"
bob Sync "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>0</SyncKey><CollectionId>$binbox</CollectionId></Collection></Collections></Sync>"
sk=$(sed -n 's|.*<SyncKey>\([^<]*\)</SyncKey>.*|\1|p' "$work/bob.body.xml" | head -1)
bob Sync "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>$sk</SyncKey><CollectionId>$binbox</CollectionId><GetChanges/></Collection></Collections></Sync>"
grep -q 'Lunch from alice' "$work/bob.body.xml" || fail "SendMail from alice is not in bob's Inbox"
grep -q 'Delivered while serving' "$work/bob.body.xml" || fail "the delivered mail is not in bob's Inbox"
grep -q 'nobody@elsewhere' "$work/bob.body.xml" && fail "bob's copy shows the Bcc"
mkdir -p "$work/md/cur" "$work/md/new"
cp "$work/m.eml" "$work/md/cur/1.smoke:2,S"
cp "$work/m.eml" "$work/md/new/2.smoke"
cp "$work/garbage" "$work/md/new/3.smoke"
"$server" import bob --maildir "$work/md" --data-dir "$data" >"$work/import.out" 2>"$work/import.err" || fail "import --maildir failed"
grep -qx 'imported 2 message(s) into bob/Inbox (1 read, 1 unread), 1 skipped' "$work/import.out" ||
	fail "import --maildir: $(cat "$work/import.out")"
grep -q 'skipped .*3.smoke' "$work/import.err" || fail "import --maildir did not report the bad message"
printf 'From a@b Mon Jan  1 00:00:00 2024\nSubject: one\nStatus: RO\n\n>From the start\n\nFrom c@d Mon Jan  1 00:00:00 2024\nSubject: two\n\nbody\n' >"$work/mbox"
"$server" import bob --mbox "$work/mbox" --folder Imported --data-dir "$data" >"$work/import.out" 2>&1 || fail "import --mbox failed"
grep -qx 'imported 2 message(s) into bob/Imported (1 read, 1 unread), 0 skipped (folder created)' "$work/import.out" ||
	fail "import --mbox: $(cat "$work/import.out")"

# A Ping still parked when the server stops is answered (Status 1)
curl -sS --max-time 20 -o "$work/ping2.body" -w '%{http_code}' "${auth[@]}" -H 'MS-ASProtocolVersion: 14.1' \
	--data-binary @"$work/ping.wbxml" "$eas?Cmd=Ping&User=alice&DeviceId=SMOKE2&DeviceType=SmartPhone" >"$work/ping2.code" &
ping_pid=$!
for _ in $(seq 1 50); do
	[ "$(grep -c 'device=SMOKE2 .*http=held' "$work/err")" -ge 1 ] && break
	sleep 0.1
done

# Item commands (h3): served by the real binary, spec statuses for an unprimed / unknown target
request GetItemEstimate "<GetItemEstimate xmlns=\"GetItemEstimate:\" xmlns:airsync=\"AirSync:\"><Collections><Collection><airsync:SyncKey>0</airsync:SyncKey><CollectionId>$inbox</CollectionId></Collection></Collections></GetItemEstimate>" -H "X-MS-PolicyKey: $key"
[ "$(code)" = 200 ] && [ "$(value_of Status)" = 3 ] || fail "GetItemEstimate with SyncKey 0: $(code) status $(value_of Status)"
request ItemOperations "<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\"><Fetch><Store>Mailbox</Store><airsync:CollectionId>$inbox</airsync:CollectionId><airsync:ServerId>$inbox:404</airsync:ServerId></Fetch></ItemOperations>" -H "X-MS-PolicyKey: $key"
grep -q '<Fetch><Status>6</Status>' "$work/body.xml" || fail "ItemOperations Fetch of a missing item: not Status 6"
request MoveItems "<MoveItems xmlns=\"Move:\"><Move><SrcMsgId>$inbox:404</SrcMsgId><SrcFldId>$inbox</SrcFldId><DstFldId>$inbox</DstFldId></Move></MoveItems>" -H "X-MS-PolicyKey: $key"
[ "$(value_of Status)" = 1 ] || fail "MoveItems of a missing item: status $(value_of Status)"

# Misbehaviour on demand (eas-server inject, h3): faults added by another process while serve runs
"$server" inject alice --device SMOKE1 --http 503 --retry-after 7 --count 2 --data-dir "$data" || fail "inject --http 503"
"$server" inject alice --list --data-dir "$data" | grep -q 'device=SMOKE1 .*code=503 retry-after=7 remaining=2' ||
	fail "inject --list does not show the 503"
for n in 1 2; do
	request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
	[ "$(code)" = 503 ] || fail "injected 503 #$n -> $(code)"
	grep -qi '^Retry-After: 7' "$work/headers" || fail "injected 503 #$n without Retry-After: 7"
done
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
[ "$(code)" = 200 ] || fail "after the injected 503s -> $(code)"
"$server" inject alice --command FolderSync --eas-status 110 --data-dir "$data" || fail "inject --eas-status"
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
[ "$(value_of Status)" = 110 ] || fail "injected FolderSync Status 110: got $(value_of Status)"
"$server" inject alice --http 451 --location https://elsewhere.test/Microsoft-Server-ActiveSync --count 5 --data-dir "$data" ||
	fail "inject --http 451"
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
[ "$(code)" = 451 ] || fail "injected 451 -> $(code)"
grep -qi '^X-MS-Location: https://elsewhere.test/Microsoft-Server-ActiveSync' "$work/headers" || fail "451 without X-MS-Location"
"$server" inject alice --clear --data-dir "$data" || fail "inject --clear"
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
[ "$(code)" = 200 ] || fail "after inject --clear -> $(code)"
"$server" inject alice --http 302 --data-dir "$data" 2>/dev/null && fail "inject accepted HTTP 302"
"$server" inject nobody --http 500 --data-dir "$data" 2>/dev/null && fail "inject accepted an unknown user"

# Admin: wipe and devices
"$server" wipe alice SMOKE1 --data-dir "$data" >/dev/null || fail "wipe"
"$server" devices alice --data-dir "$data" | grep -q 'SMOKE1.*wipe=full-requested' || fail "devices: wipe not requested"
request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' -H "X-MS-PolicyKey: $key"
[ "$(value_of Status)" = 140 ] || fail "after wipe: FolderSync status $(value_of Status)"
token=$("$server" token issue alice --data-dir "$data")
c=$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -X OPTIONS -H "Authorization: Bearer $token" "$eas")
[ "$c" = 200 ] || fail "bearer token -> $c"

# Stop: SIGTERM, clean exit
e2e_stop_server
grep -q 'stopped' "$work/err" || fail "no clean stop message"
wait $ping_pid
[ "$(cat "$work/ping2.code")" = 200 ] || fail "the parked Ping was not answered at shutdown ($(cat "$work/ping2.code"))"
"$wbxml" decode --compact "$work/ping2.body" 2>/dev/null | grep -q '<Status>1</Status>' || fail "parked Ping at shutdown: not Status 1"
grep -q 'correct horse' "$work/err" && fail "the password reached the log"

# HTTPS with a self-signed certificate and a policy file (openssl: tools/deps.sh test)
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1 || fail "openssl req"
	printf '# strict\nDevicePasswordEnabled=1\nMinDevicePasswordLength=6\n' >"$work/policy"
	e2e_start_server "$work/out2" "$work/err2" --data-dir "$data" --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" \
		--policy "$work/policy"
	url=$server_url
	case "$url" in
	https://127.0.0.1:[0-9]*) ;;
	*) fail "TLS: unexpected listening line: '$url'" ;;
	esac
	eas="$url/Microsoft-Server-ActiveSync"
	c=$(curl -sS --max-time 10 --cacert "$work/tls.crt" -o /dev/null -w '%{http_code}' -X OPTIONS "${auth[@]}" "$eas")
	[ "$c" = 200 ] || fail "TLS OPTIONS -> $c"
	curl -sS --max-time 10 -o /dev/null -X OPTIONS "${auth[@]}" "$eas" 2>/dev/null && fail "TLS: an untrusted certificate was accepted"
	# with a policy, an unprovisioned device is told to provision (142)
	device=SMOKE3
	request FolderSync '<FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync>' --cacert "$work/tls.crt"
	[ "$(value_of Status)" = 142 ] || fail "policy: FolderSync of an unprovisioned device: status $(value_of Status)"
	request Provision '<Provision xmlns="Provision:" xmlns:s="Settings:"><s:DeviceInformation><s:Set><s:Model>smoke</s:Model></s:Set></s:DeviceInformation><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>' --cacert "$work/tls.crt"
	body_has '<MinDevicePasswordLength>6</MinDevicePasswordLength>' || fail "policy: MinDevicePasswordLength not sent"
	e2e_stop_server "the TLS server"
	"$server" serve --listen 127.0.0.1:0 --data-dir "$data" --tls-cert "$work/tls.crt" >/dev/null 2>&1 &&
		fail "--tls-cert without --tls-key was accepted"
else
	fail "the openssl command is missing (tools/deps.sh test)"
fi

if [ $failures -ne 0 ]; then
	echo "--- server log"
	cat "$work/err"
	echo "$failures failure(s)"
	exit 1
fi
echo "server smoke: all passed"
exit 0
