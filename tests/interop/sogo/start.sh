#!/usr/bin/env bash
# start.sh — starts the SOGo test instance made by setup.sh: PostgreSQL,
# memcached, Dovecot and sogod, all on 127.0.0.1; waits (bounded) until
# ActiveSync answers; then seeds contacts and calendar events through SOGo's
# CardDAV/CalDAV (idempotent: fixed UIDs, PUT replaces).  Daemons already
# running are left as they are.  On failure everything is stopped again.
# Needs root.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"

[ "$(id -u)" -eq 0 ] || { echo "sogo start: needs root" >&2; exit 1; }
[ -s "$PGDATA/PG_VERSION" ] && [ -f "$SOGO_HOME/GNUstep/Defaults/sogod.plist" ] && [ -f "$GNUSTEP_CONF" ] ||
  { echo "sogo start: no instance in $SOGO_BASE; run setup.sh first" >&2; exit 1; }
t0=$(date +%s%N)
phases=
lap() {  # lap NAME: appends "NAME Nms" for the time since the previous lap
  local t
  t=$(date +%s%N)
  phases="$phases${phases:+, }$1 $(( (t - ${lap_t:-$t0}) / 1000000 )) ms"
  lap_t=$t
}

ok=0
on_exit() {
  if [ $ok = 0 ]; then
    echo "sogo start: failed; last log lines:" >&2
    for f in "$LOG"/sogo.log "$LOG"/postgresql.log "$LOG"/dovecot.log "$LOG"/*.stderr; do
      [ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
    done
    "$HERE/stop.sh" >&2 || true
  fi
}
trap on_exit EXIT

install -d -o postgres -g postgres -m 755 "$RUN/pg"
install -d -o sogo -g sogo -m 755 "$RUN/sogo"
install -d -o memcache -g memcache -m 755 "$RUN/memcached"   # it writes its pidfile after dropping root
mkdir -p "$LOG"
chmod 1777 "$LOG"

# PostgreSQL (pg_ctl -w waits until it accepts connections)
if ! runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LOG/postgresql.log" \
    -w -t "$WAIT_SECONDS" start </dev/null >/dev/null
fi

# memcached (daemonizes, drops to user memcache)
if ! pid_alive "$RUN/memcached/memcached.pid"; then
  memcached -d -u memcache -l 127.0.0.1 -p "$MC_PORT" -U 0 -m 64 -c 256 \
    -P "$RUN/memcached/memcached.pid" </dev/null >>"$LOG/memcached.log" 2>&1
fi

# Dovecot (daemonizes; master pid in $RUN/dovecot/master.pid).  Its log child
# keeps an inherited stderr open forever: stdio goes to files.
if ! pid_alive "$RUN/dovecot/master.pid"; then
  /usr/sbin/dovecot -c "$DOVECOT_CONF" </dev/null >>"$LOG/dovecot.stderr" 2>&1
fi

wait_port "$PG_PORT" PostgreSQL
wait_port "$MC_PORT" memcached
wait_port "$IMAP_PORT" Dovecot
lap "postgres+memcached+dovecot"

# Mail Sync needs CONDSTORE seen once on every mailbox (see common.sh).
for up in $TEST_USERS; do prime_modseq "${up%%:*}"; done
lap modseq

# sogod (prefork parent daemonizes and writes its pidfile); settings come from
# $SOGO_HOME/GNUstep/Defaults/sogod.plist (through GNUSTEP_CONFIG_FILE).
if ! pid_alive "$RUN/sogo/sogo.pid"; then
  rm -f "$RUN/sogo/sogo.pid"
  runuser -u sogo -- env -i GNUSTEP_CONFIG_FILE="$GNUSTEP_CONF" HOME="$SOGO_HOME" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    /usr/sbin/sogod -WOPort "127.0.0.1:$SOGO_PORT" -WOPidFile "$RUN/sogo/sogo.pid" \
    -WOLogFile "$LOG/sogo.log" </dev/null >>"$LOG/sogo.stderr" 2>&1
fi
wait_port "$SOGO_PORT" sogod
# The first HTTP answer (any status) means the workers serve.
code=000
for _ in $(seq 1 $((WAIT_SECONDS * 5))); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X OPTIONS "$EAS_URL" || true)
  [ "$code" != 000 ] && break
  sleep 0.2
done
[ "$code" != 000 ] || { echo "sogo start: sogod does not answer HTTP on $EAS_URL" >&2; exit 1; }
lap sogod

# ---------------------------------------------------------------- DAV seed
# dav_put USER PASS PATH CONTENT-TYPE FILE -> fails unless 201/204.
dav_put() {
  local c
  c=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 -u "$1:$2" -X PUT \
      -H "Content-Type: $4; charset=utf-8" --data-binary "@$5" "$SOGO_URL/SOGo/dav/$1/$3")
  case $c in 201 | 204) return 0 ;; esac
  echo "sogo start: DAV PUT $3 for $1 answered HTTP $c" >&2
  return 1
}
seed_dav() {
  local u=$1 p=$2 i uid f=$RUN/seed.$$ st en now
  # Touch the user's collections once so SOGo creates the "personal" folders.
  curl -s -o /dev/null --max-time 30 -u "$u:$p" -X PROPFIND -H 'Depth: 1' "$SOGO_URL/SOGo/dav/$u/Contacts/"
  curl -s -o /dev/null --max-time 30 -u "$u:$p" -X PROPFIND -H 'Depth: 1' "$SOGO_URL/SOGo/dav/$u/Calendar/"
  for i in $(seq 1 "$SEED_CONTACTS"); do
    uid=libeas-seed-contact-$i
    printf 'BEGIN:VCARD\r\nVERSION:3.0\r\nUID:%s\r\nFN:Seed Contact %s\r\nN:Contact %s;Seed;;;\r\nEMAIL;TYPE=work:contact%s@example.org\r\nTEL;TYPE=cell:+1555000%04d\r\nORG:Example Org\r\nEND:VCARD\r\n' \
      "$uid" "$i" "$i" "$i" "$i" > "$f"
    dav_put "$u" "$p" "Contacts/personal/$uid.vcf" text/vcard "$f"
  done
  now=$(date -u +%Y%m%dT%H%M%SZ)
  for i in $(seq 1 "$SEED_EVENTS"); do
    uid=libeas-seed-event-$i
    st=$(date -u -d "+$i day" +%Y%m%dT100000Z)
    en=$(date -u -d "+$i day" +%Y%m%dT110000Z)
    printf 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//libeas//interop seed//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:%s\r\nDTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Seed event %s\r\nLOCATION:Room %s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n' \
      "$uid" "$now" "$st" "$en" "$i" "$i" > "$f"
    dav_put "$u" "$p" "Calendar/personal/$uid.ics" text/calendar "$f"
  done
  rm -f "$f"
}
# The items live in the database: seeded once per cluster (setup.sh --reset
# wipes both), not on every start.
seed_stamp="$SEED_CONTACTS $SEED_EVENTS $TEST_USERS"
if [ "$(cat "$PGDATA/libeas-dav-seed.stamp" 2>/dev/null)" != "$seed_stamp" ]; then
  for up in $TEST_USERS; do seed_dav "${up%%:*}" "${up#*:}"; done
  echo "$seed_stamp" > "$PGDATA/libeas-dav-seed.stamp"
fi
lap "DAV seed"

ok=1
printf 'sogo start: postgres :%s, memcached :%s, imap :%s, sogod :%s ready in %d ms (%s)\n' \
  "$PG_PORT" "$MC_PORT" "$IMAP_PORT" "$SOGO_PORT" $(( ($(date +%s%N) - t0) / 1000000 )) "$phases"
echo "sogo start: ActiveSync at $EAS_URL"
