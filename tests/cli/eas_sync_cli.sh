#!/usr/bin/env bash
# eas-sync's command-line contract against the companion server on loopback:
# every command with and without --json (the JSON checked against the schema
# of docs/eas-sync.md by eas_sync_schema.py), exit codes, and the errors
# users meet: wrong password (3), unreachable server (4), bad certificate
# (5, HTTPS eas-server with a self-signed certificate), plain http without
# --insecure-http (2), unknown folder or item (7); --verbose shows XML and
# never the password; push sees a message delivered while it waits.
# Under an ASan build any leak or memory error also fails the tool.
#
# Usage: eas_sync_cli.sh EAS_SYNC EAS_SERVER SCHEMA_PY
set -u
sync=$1
server=$2
schema=$3
# shellcheck source=SCRIPTDIR/../support/e2e_lib.sh
. "$(dirname "$0")/../support/e2e_lib.sh"
e2e_init
e2e_require python3 "python3 is missing (tools/deps.sh test)"

# Watchdog: the whole run ends within 170 s.
e2e_watchdog 170 "over 170 s"

# start_server DATA_DIR OUT [serve options...]: starts eas-server on an ephemeral port (stderr
# in OUT.err) and sets server_url to its base URL ("" if it did not start).
start_server() {
	local data=$1 out=$2
	shift 2
	e2e_start_server "$out" "$out.err" --data-dir "$data" --quiet "$@"
}

# expect CODE PATTERN -- command...: runs it with a time limit; checks the exit code
# and that stderr matches PATTERN (empty: any stderr).
expect() {
	local code=$1 pattern=$2
	shift 3
	timeout 60 "$@" >"$work/out" 2>"$work/err"
	local rc=$?
	if [ "$rc" -ne "$code" ] || { [ -n "$pattern" ] && ! grep -qE -- "$pattern" "$work/err"; }; then
		fail "$* -> exit $rc (want $code${pattern:+, stderr matching '$pattern'}); stderr:"
		sed 's/^/    /' "$work/err" | head -8
		return 1
	fi
	return 0
}

# schema COMMAND: checks $work/out against the documented schema.
schema() {
	python3 "$schema" "$1" "$work/out" >"$work/schema" 2>&1 || {
		fail "--json output of $1 does not match the schema:"
		sed 's/^/    /' "$work/schema" | head -8
		sed 's/^/    > /' "$work/out" | head -3
	}
}

# jq-like: json EXPR (Python expression over the document d, read from $work/out's last line)
json() {
	python3 -c 'import json,sys; d=json.loads([l for l in open(sys.argv[1]) if l.strip()][-1]); print(eval(sys.argv[2]))' \
		"$work/out" "$1" 2>/dev/null
}

# ---- the server: alice with a seeded mailbox, 60 emails -----------------------------------
pw='correct horse battery'
printf '%s\n' "$pw" >"$work/pw"
printf 'wrong horse\n' >"$work/badpw"
data=$work/srv
"$server" user add alice --password-file "$work/pw" --data-dir "$data" >/dev/null || { echo "FAIL: user add"; exit 1; }
"$server" seed-demo alice --emails 60 --data-dir "$data" >/dev/null || { echo "FAIL: seed-demo"; exit 1; }
start_server "$data" "$work/srv.out"
base=$server_url
[ -n "$base" ] || { echo "FAIL: eas-server did not start:"; cat "$work/srv.out.err"; exit 1; }
url=$base/Microsoft-Server-ActiveSync
acct=(--server "$url" --insecure-http --user alice --password-file "$work/pw" --data-dir "$work/c1" --device-id CliOne)

# ---- usage: 2 ----------------------------------------------------------------------------------
expect 2 'missing command' -- "$sync"
expect 2 "unknown command 'frobnicate'" -- "$sync" frobnicate
expect 2 'never go on the command line' -- "$sync" sync --password secret
expect 2 'does not apply to sync' -- "$sync" sync --to bob@example.test
expect 2 'required' -- "$sync" send --data-dir "$work/c1"
expect 2 'missing argument' -- "$sync" list --data-dir "$work/c1"
expect 2 'protocol-version' -- "$sync" sync --server "$url" --insecure-http --user alice \
	--password-file "$work/pw" --data-dir "$work/cv" --protocol-version 9.9
expect 2 'clear text|insecure-http' -- "$sync" sync --server "$url" --user alice --password-file "$work/pw" \
	--data-dir "$work/c0"
"$sync" --help | grep -q 'fetch-attachment' || fail "--help lacks the command list"

# ---- status before any sync: offline, empty -----------------------------------------------------
expect 0 '' -- "$sync" status --data-dir "$work/empty" --json && schema status

# ---- sync -----------------------------------------------------------------------------------------
if expect 0 '' -- "$sync" sync "${acct[@]}" --json; then
	schema sync
	[ "$(json 'd["added"]')" = 60 ] || fail "first sync: added $(json 'd["added"]'), want the 60 seeded emails"
	[ "$(json 'sum(f["items"] for f in d["folders"])')" = 60 ] || fail "first sync: folders do not hold 60 items"
	[ "$(json 'any(f["type"] == 2 and f["items"] > 0 for f in d["folders"])')" = True ] ||
		fail "first sync: no Inbox with items"
fi
expect 0 '' -- "$sync" sync "${acct[@]}" --json && { [ "$(json 'd["added"]')" = 0 ] || fail "second sync added $(json 'd["added"]') items, want 0"; }
# text mode: plain lines on a pipe, a summary on stdout
expect 0 '' -- "$sync" sync "${acct[@]}" && grep -q '^synced ' "$work/out" || fail "sync text output lacks the summary"
expect 0 '' -- "$sync" sync Inbox "${acct[@]}" --json
expect 7 "no folder 'NoSuchFolder'" -- "$sync" sync NoSuchFolder "${acct[@]}"

# ---- folders, list, show, status ---------------------------------------------------------------------
expect 0 '' -- "$sync" folders "${acct[@]}" --json && schema folders
expect 0 '' -- "$sync" folders --offline --data-dir "$work/c1" && grep -q 'Inbox' "$work/out" ||
	fail "folders --offline does not show the Inbox"
if expect 0 '' -- "$sync" list Inbox --data-dir "$work/c1" --json; then
	schema list
	cp "$work/out" "$work/inbox.json"
	[ "$(json 'd["total"] == len(d["items"]) and d["total"] > 0')" = True ] || fail "list Inbox: total and items disagree"
fi
first=$(json 'd["items"][0]["server_id"]')
with_att=$(json '[i["server_id"] for i in d["items"] if i["attachments"] > 0][0]')
expect 0 '' -- "$sync" list inbox --data-dir "$work/c1" --limit 3 && [ "$(grep -c . "$work/out")" = 4 ] ||
	fail "list --limit 3 did not print 3 items and a summary"
expect 7 "no folder 'Nope'" -- "$sync" list Nope --data-dir "$work/c1" --json && schema list
[ "$(json 'd["error"]["kind"]')" = not_found ] || fail "list Nope --json: error kind is not not_found"
if [ -n "$first" ]; then
	expect 0 '' -- "$sync" show "$first" --data-dir "$work/c1" --json && schema show
	[ -n "$(json 'd["item"]["subject"]')" ] && [ "$(json 'd["item"]["body"] is not None')" = True ] ||
		fail "show $first: no subject or body"
	expect 0 '' -- "$sync" show "$first" --data-dir "$work/c1" && grep -q '^Subject: ' "$work/out" ||
		fail "show $first: no Subject line"
else
	fail "list Inbox gave no item to show"
fi
expect 7 "no item 'no-such-item'" -- "$sync" show no-such-item --data-dir "$work/c1"
if expect 0 '' -- "$sync" status --data-dir "$work/c1" --json; then
	schema status
	[ "$(json 'd["protocol_version"] is not None and d["items"] == 60')" = True ] ||
		fail "status: no protocol version or not 60 items"
fi
expect 0 '' -- "$sync" status --data-dir "$work/c1" && grep -q '^protocol version' "$work/out" || fail "status text"

# ---- fetch-attachment (every seventh seeded mail has notes.txt) -------------------------------------
if [ -n "$with_att" ]; then
	if expect 0 '' -- "$sync" fetch-attachment "$with_att" "${acct[@]}" --output "$work/att.txt" --json; then
		schema fetch-attachment
		grep -q 'demo attachment of mail' "$work/att.txt" || fail "fetched attachment content is wrong"
	fi
	expect 6 'exists|force' -- "$sync" fetch-attachment "$with_att" "${acct[@]}" --output "$work/att.txt"
	expect 7 'no attachment 5' -- "$sync" fetch-attachment "$with_att" "${acct[@]}" --index 5
else
	fail "no seeded email with an attachment in the Inbox listing"
fi

# ---- mark: a local change the server then shows to another device -------------------------------------
if [ -n "$first" ]; then
	expect 0 '' -- "$sync" mark "$first" --unread "${acct[@]}" --json && schema mark &&
		{ [ "$(json 'd["uploaded"]')" = True ] || fail "mark --unread: not uploaded"; }
	acct2=(--server "$url" --insecure-http --user alice --password-file "$work/pw" --data-dir "$work/c2" --device-id CliTwo)
	expect 0 '' -- "$sync" sync "${acct2[@]}" --json
	expect 0 '' -- "$sync" show "$first" --data-dir "$work/c2" --json
	[ "$(json 'd["item"]["read"]')" = False ] || fail "another device does not see $first as unread"
	expect 0 '' -- "$sync" mark "$first" --read "${acct[@]}"
	expect 0 '' -- "$sync" sync "${acct2[@]}"
	expect 0 '' -- "$sync" show "$first" --data-dir "$work/c2" --json
	[ "$(json 'd["item"]["read"]')" = True ] || fail "another device does not see $first as read again"
fi

# ---- move, reply, forward ----------------------------------------------------------------------------------
second=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["items"][1]["server_id"])' \
	"$work/inbox.json" 2>/dev/null)
if [ -n "$second" ]; then
	if expect 0 '' -- "$sync" move "$second" Projects "${acct[@]}" --json; then
		schema move
		moved=$(json 'd["new_server_id"]')
		[ -n "$moved" ] && [ "$moved" != None ] || fail "move: no new server id"
		expect 0 '' -- "$sync" list Projects --data-dir "$work/c1" --json
		[ "$(json "any(i['server_id'] == '$moved' for i in d['items'])")" = True ] ||
			fail "move: $moved is not in Projects in the local store"
		expect 7 "no item '$second'" -- "$sync" show "$second" --folder Inbox --data-dir "$work/c1"
	fi
	expect 1 'status 4' -- "$sync" move "$first" Inbox "${acct[@]}"
	expect 7 "no folder 'Nope'" -- "$sync" move "$first" Nope "${acct[@]}"
	expect 2 'missing argument' -- "$sync" move "$first" "${acct[@]}"
	expect 0 '' -- "$sync" reply "$first" "${acct[@]}" --to bob@example.test --subject 'Re: CLI' --body 'Agreed.' \
		--json && schema reply
	expect 0 '' -- "$sync" forward "$first" "${acct[@]}" --to bob@example.test --subject 'Fw: CLI' --no-save \
		--json && schema forward
	expect 2 'required' -- "$sync" reply "$first" "${acct[@]}" --body 'no recipient'
else
	fail "list Inbox gave no second item to move"
fi

# ---- send ------------------------------------------------------------------------------------------------
printf 'attached text\n' >"$work/note.txt"
if expect 0 '' -- "$sync" send "${acct[@]}" --to bob@example.test --cc carol@example.test \
	--subject 'CLI test message' --body 'Hello from the CLI test' --attach "$work/note.txt" --json; then
	schema send
fi
expect 6 'cannot read|no-such' -- "$sync" send "${acct[@]}" --to bob@example.test --subject x --attach "$work/no-such"

# ---- push: a message delivered while push waits ------------------------------------------------------------
cat >"$work/new.eml" <<'EML'
From: Pusher <pusher@example.test>
To: alice@example.test
Subject: Pushed while waiting
Date: Tue, 24 Nov 2026 09:00:00 +0000

Delivered during the CLI test.
EML
timeout 60 "$sync" push "${acct[@]}" --json --for 30 --count 1 >"$work/push.out" 2>"$work/push.err" &
ppid_=$!
e2e_track "$ppid_"
for _ in $(seq 1 150); do
	grep -q '"listening"' "$work/push.out" && break
	sleep 0.1
done
if grep -q '"listening"' "$work/push.out"; then
	t0=$(date +%s.%N)
	"$server" deliver alice "$work/new.eml" --data-dir "$data" >/dev/null 2>"$work/deliver.err" ||
		fail "eas-server deliver: $(head -1 "$work/deliver.err")"
	wait "$ppid_"
	rc=$?
	t1=$(date +%s.%N)
	cp "$work/push.out" "$work/out"
	if [ $rc -ne 0 ]; then
		fail "push exited $rc; stderr:"
		sed 's/^/    /' "$work/push.err" | head -5
	else
		schema push
		grep -q '"event":"new".*Pushed while waiting' "$work/push.out" || fail "push did not print the delivered message"
		grep -q '"reason":"count"' "$work/push.out" || fail "push did not end on --count"
		awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 10) }' || fail "push took over 10 s to see the delivery"
	fi
else
	fail "push never said it was listening; stderr:"
	sed 's/^/    /' "$work/push.err" | head -5
	kill "$ppid_" 2>/dev/null
fi
expect 0 '' -- "$sync" push "${acct[@]}" --for 1 && grep -q 'push ended (time)' "$work/err" || fail "push --for 1 did not end by time"

# ---- errors: wrong password, unreachable server, bad certificate ------------------------------------------
expect 3 'authentication' -- "$sync" sync --server "$url" --insecure-http --user alice \
	--password-file "$work/badpw" --data-dir "$work/bad" --json
[ "$(json 'd["error"]["kind"]')" = auth ] || fail "wrong password --json: kind is not auth"
schema sync
grep -q 'wrong horse' "$work/err" "$work/out" && fail "the wrong password appears in the output"
expect 4 '' -- "$sync" sync --server http://127.0.0.1:1/Microsoft-Server-ActiveSync --insecure-http --user alice \
	--password-file "$work/pw" --data-dir "$work/unreach" --timeout 20
grep -qiE 'connect|refused|reach' "$work/err" || fail "unreachable server: the message does not say so: $(head -1 "$work/err")"

# HTTPS with a self-signed certificate (the recipe of docs/server.md)
if command -v openssl >/dev/null; then
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1 || fail "openssl could not make a certificate"
	# its own data directory: one serving process per directory (its notify socket lives there)
	"$server" user add alice --password-file "$work/pw" --data-dir "$work/tlssrv" >/dev/null || fail "user add (TLS)"
	start_server "$work/tlssrv" "$work/tls.out" --tls-cert "$work/tls.crt" --tls-key "$work/tls.key"
	tbase=$server_url
	if [ -n "$tbase" ]; then
		turl=$tbase/Microsoft-Server-ActiveSync
		expect 5 'certificate|TLS|SSL' -- "$sync" folders --server "$turl" --user alice --password-file "$work/pw" \
			--data-dir "$work/tls1"
		expect 0 '' -- "$sync" folders --server "$turl" --user alice --password-file "$work/pw" \
			--data-dir "$work/tls2" --ca-file "$work/tls.crt"
	else
		fail "the HTTPS server did not start: $(head -3 "$work/tls.out.err")"
	fi
else
	fail "openssl is missing (tools/deps.sh test)"
fi

# ---- credentials from the environment and from a token command ------------------------------------------------
EAS_SYNC_TEST_PW=$pw expect 0 '' -- "$sync" folders --server "$url" --insecure-http --user alice \
	--password-env EAS_SYNC_TEST_PW --data-dir "$work/env"
expect 2 'not set' -- "$sync" folders --server "$url" --insecure-http --user alice --password-env NO_SUCH_VAR_X \
	--data-dir "$work/env"
token=$("$server" token issue alice --data-dir "$data" 2>/dev/null)
if [ -n "$token" ]; then
	printf '%s\n' "$token" >"$work/token"
	expect 0 '' -- "$sync" folders --server "$url" --insecure-http --user alice --token-cmd "cat '$work/token'" \
		--data-dir "$work/tok"
	expect 3 'authentication' -- "$sync" folders --server "$url" --insecure-http --user alice \
		--token-cmd "echo not-a-token" --data-dir "$work/tok2"
else
	fail "eas-server token issue gave no token"
fi

# ---- Autodiscover: --email finds the URL and saves it ------------------------------------------------------------
expect 0 'served by' -- "$sync" folders --email alice@example.test --user alice --password-file "$work/pw" \
	--insecure-http --autodiscover-url "$base/autodiscover/autodiscover.xml" --data-dir "$work/ad" &&
	expect 0 '' -- "$sync" status --data-dir "$work/ad" --json &&
	{ [ "$(json 'd["account"]["url"]')" = "$url" ] || fail "Autodiscover saved $(json 'd["account"]["url"]'), want $url"; }

# ---- --verbose: the exchange as XML, never the password -----------------------------------------------------------
if expect 0 '' -- "$sync" sync --server "$url" --insecure-http --user alice --password-file "$work/pw" \
	--data-dir "$work/cverbose" --verbose; then
	grep -q '<FolderSync xmlns="FolderHierarchy:">' "$work/err" || fail "--verbose shows no FolderSync XML"
	grep -q '<Sync xmlns="AirSync:">' "$work/err" || fail "--verbose shows no Sync XML"
	grep -q 'Authorization: \[redacted\]' "$work/err" || fail "--verbose does not show the redacted Authorization header"
	grep -qF "$pw" "$work/err" "$work/out" && fail "--verbose output contains the password"
	b64=$(printf 'alice:%s' "$pw" | base64 -w0)
	grep -qF "$b64" "$work/err" && fail "--verbose output contains the Basic credentials"
fi

# The servers stop on SIGTERM; nothing of this test may stay behind.
for p in "${e2e_pids[@]}"; do
	kill -TERM "$p" 2>/dev/null
done
for p in "${e2e_pids[@]}"; do
	for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$p" 2>/dev/null && fail "process $p still runs 5 s after SIGTERM"
done

if [ "$failures" -ne 0 ]; then
	echo "$failures eas-sync CLI check(s) failed"
	exit 1
fi
echo "eas-sync CLI: all checks passed"
