# eas_sync_sogo.sh — eas-sync (the sample client) against SOGo; sourced by
# run.sh once SOGo runs, with its pass/fail/show helpers and settings
# ($easync, $out, $dev, $EAS_URL, $DOVECOT_CONF, SEED_*).
#
#   10. sync: the folder tree, and Inbox, Contacts and Calendar completely
#   11. items of classes the tool keeps raw (Contacts, Calendar) show as XML
#   12. push: a Ping wakes when a message is delivered into alice's Dovecot
#       mailbox (doveadm save), and the message is printed
#   13. a local change (mark read) that the server then shows (IMAP \Seen),
#       undone afterwards
#   14. a wrong password: exit 3
#
# The mailbox is left as found (the delivered message is expunged, the flag
# reset), so warm runs see the same seed.

es_dir=$out/eas-sync-alice
es_acct=(--server "$EAS_URL" --insecure-http --user alice --password-env ES_PW --data-dir "$es_dir" --device-id "${dev}s")
export ES_PW=alicepass
# es_json FILE EXPR: a Python expression over the last JSON document of FILE (d)
es_json() {
	python3 -c 'import json,sys; d=json.loads([l for l in open(sys.argv[1]) if l.strip()][-1]); print(eval(sys.argv[2]))' \
		"$1" "$2" 2>/dev/null
}
# es_folder TYPE: id of the first folder of that FolderHierarchy type
es_folder() { es_json "$out/es-folders.json" "[f['id'] for f in d['folders'] if f['type'] == $1][0]"; }
es_items() { es_json "$out/es-folders.json" "[f['items'] for f in d['folders'] if f['type'] == $1][0]"; }

# 10. sync everything
timeout 300 "$easync" sync "${es_acct[@]}" >"$out/es-sync.out" 2>"$out/es-sync.err"
rc=$?
timeout 30 "$easync" folders --offline --json --data-dir "$es_dir" >"$out/es-folders.json" 2>>"$out/es-sync.err"
if [ $rc = 0 ] && [ "$(es_items 2)" = "$SEED_MESSAGES" ] && [ "$(es_items 9)" = "$SEED_CONTACTS" ] &&
	[ "$(es_items 8)" = "$SEED_EVENTS" ]; then
	pass "eas-sync sync: $(es_json "$out/es-folders.json" 'len(d["folders"])') folders; Inbox $(es_items 2), Contacts $(es_items 9), Calendar $(es_items 8) items ($(grep '^synced ' "$out/es-sync.out" | sed 's/^synced [0-9]* folders: //'))"
else
	fail "eas-sync sync: exit $rc; Inbox $(es_items 2) (want $SEED_MESSAGES), Contacts $(es_items 9) (want $SEED_CONTACTS), Calendar $(es_items 8) (want $SEED_EVENTS)"
	show "$out/es-sync.err"
fi

# 11. untyped classes kept raw: shown as the XML of their ApplicationData
es_raw_ok=1
for t in 9 8; do
	fid=$(es_folder $t)
	timeout 30 "$easync" list "$fid" --json --data-dir "$es_dir" >"$out/es-list-$t.json" 2>&1
	sid=$(es_json "$out/es-list-$t.json" 'd["items"][0]["server_id"]')
	timeout 30 "$easync" show "$sid" --folder "$fid" --json --data-dir "$es_dir" >"$out/es-show-$t.json" 2>&1
	[ "$(es_json "$out/es-show-$t.json" '"<ApplicationData" in d["item"]["xml"] and d["item"]["subject"] != ""')" = True ] ||
		{ es_raw_ok=0; show "$out/es-show-$t.json"; }
done
if [ $es_raw_ok = 1 ]; then
	pass "eas-sync show: a contact ('$(es_json "$out/es-show-9.json" 'd["item"]["subject"]')') and an event ('$(es_json "$out/es-show-8.json" 'd["item"]["subject"]')') shown raw as XML"
else
	fail "eas-sync show: contacts or events are not shown as their XML"
fi

# 12. push: deliver into Dovecot while eas-sync waits in Ping (SOGo caps the heartbeat at 30 s)
es_mid="<libeas-push-$$@example.org>"
timeout 120 "$easync" push "${es_acct[@]}" --json --count 1 --for 100 --heartbeat 25 \
	>"$out/es-push.json" 2>"$out/es-push.err" &
es_push=$!
for _ in $(seq 1 600); do
	grep -q '"event":"listening"' "$out/es-push.json" && break
	kill -0 $es_push 2>/dev/null || break
	sleep 0.1
done
es_t0=$(date +%s.%N)
printf 'From: Pusher <pusher@example.org>\r\nTo: alice@example.com\r\nSubject: Interop push test\r\nMessage-ID: %s\r\nDate: %s\r\n\r\nDelivered while eas-sync waited in Ping.\r\n' \
	"$es_mid" "$(date -u -R)" | doveadm -c "$DOVECOT_CONF" save -u alice -m INBOX
wait $es_push
rc=$?
es_line=$(grep '"event":"new"' "$out/es-push.json" | head -1)
if [ $rc = 0 ] && grep -q 'Interop push test' <<<"$es_line"; then
	es_lat=$(awk -v a="$es_t0" -v b="$(sed -E 's/.*"time":([0-9.]+).*/\1/' <<<"$es_line")" 'BEGIN { printf "%.1f", b - a }')
	pass "eas-sync push: the Ping woke for a message delivered to Dovecot; printed $es_lat s after delivery"
else
	fail "eas-sync push: exit $rc, the delivered message was not printed"
	show "$out/es-push.err"
	show "$out/es-push.json"
fi
doveadm -c "$DOVECOT_CONF" expunge -u alice mailbox INBOX header Message-ID "$es_mid" >/dev/null 2>&1

# 13. mark read: the server (Dovecot, through SOGo) then has the message \Seen; then unread again
es_seen() { doveadm -c "$DOVECOT_CONF" search -u alice mailbox INBOX SEEN 2>/dev/null | wc -l; }
timeout 30 "$easync" list Inbox --json --data-dir "$es_dir" >"$out/es-inbox.json" 2>&1
es_sid=$(es_json "$out/es-inbox.json" '[i["server_id"] for i in d["items"] if i["read"] is False and "Seed" in i["subject"]][0]')
es_before=$(es_seen)
timeout 120 "$easync" mark "$es_sid" --read "${es_acct[@]}" --json >"$out/es-mark.json" 2>"$out/es-mark.err"
rc=$?
es_after=$(es_seen)
timeout 120 "$easync" mark "$es_sid" --unread "${es_acct[@]}" >/dev/null 2>>"$out/es-mark.err"
rc2=$?
es_final=$(es_seen)
if [ -n "$es_sid" ] && [ $rc = 0 ] && [ "$(es_json "$out/es-mark.json" 'd["uploaded"]')" = True ] &&
	[ "$es_after" = $((es_before + 1)) ] && [ $rc2 = 0 ] && [ "$es_final" = "$es_before" ]; then
	pass "eas-sync mark: item $es_sid marked read (IMAP \\Seen count $es_before -> $es_after), then unread again ($es_final)"
else
	fail "eas-sync mark $es_sid: exit $rc/$rc2, \\Seen count $es_before -> $es_after -> $es_final (want +1 then back)"
	show "$out/es-mark.err"
fi

# 14. a wrong password
ES_PW=wrongpass timeout 60 "$easync" sync --server "$EAS_URL" --insecure-http --user alice --password-env ES_PW \
	--data-dir "$es_dir-bad" --device-id "${dev}x" >"$out/es-bad.out" 2>&1
rc=$?
if [ $rc = 3 ] && grep -q 'authentication failed' "$out/es-bad.out" && ! grep -q wrongpass "$out/es-bad.out"; then
	pass "eas-sync with a wrong password: exit 3, '$(head -1 "$out/es-bad.out" | sed 's/^eas-sync: //')'"
else
	fail "eas-sync with a wrong password: exit $rc, expected 3 with 'authentication failed'"
	show "$out/es-bad.out"
fi
unset ES_PW
