#!/usr/bin/env bash
# stop.sh — stops sogod, Dovecot, memcached and PostgreSQL of the test
# instance.  Only the pids recorded in the instance's own pidfiles are
# signalled (and only when that pid still runs the expected program).  All are
# asked at once; what still runs after a short grace period is killed (a
# throw-away instance need not wait the ~8 s SOGo's workers take to honour TERM).
# Safe to run any number of times, also when nothing runs.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"
GRACE_TENTHS=${STOP_GRACE_TENTHS:-10}

# ours PID: alive (not a zombie) and running one of our daemons (guards
# against stale pidfiles whose pid now belongs to something else).  Shell
# builtins only: this runs in polling loops.
ours() {
  local comm stat
  [ -n "$1" ] && [ -r "/proc/$1/comm" ] || return 1
  read -r comm < "/proc/$1/comm" 2>/dev/null || return 1
  read -r stat < "/proc/$1/stat" 2>/dev/null || return 1
  stat=${stat##*) }            # "S 1 ..." after "pid (comm) "
  [ "${stat%% *}" != Z ] || return 1
  case $comm in sogod | dovecot | memcached | postgres) return 0 ;; esac
  return 1
}
pidfile() { local p=; [ -s "$1" ] && read -r p < "$1"; echo "$p"; }

SOGO=$(pidfile "$RUN/sogo/sogo.pid")
SOGO_KIDS=
ours "$SOGO" && SOGO_KIDS=$(pgrep -P "$SOGO" 2>/dev/null || true)
DOVE=$(pidfile "$RUN/dovecot/master.pid")
MC=$(pidfile "$RUN/memcached/memcached.pid")
PG=$(pidfile "$PGDATA/postmaster.pid")

stopped=
for p in $SOGO $DOVE $MC; do ours "$p" && kill -TERM "$p" 2>/dev/null && stopped="$stopped $p"; done
if ours "$PG"; then
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -W stop >/dev/null 2>&1
  stopped="$stopped $PG"
fi

for _ in $(seq 1 "$GRACE_TENTHS"); do
  left=0
  for p in $SOGO $SOGO_KIDS $DOVE $MC $PG; do ours "$p" && left=1; done
  [ $left = 0 ] && break
  sleep 0.1
done
for p in $SOGO $SOGO_KIDS $MC $DOVE; do ours "$p" && kill -KILL "$p" 2>/dev/null; done
for _ in $(seq 1 20); do   # KILL is not instant either
  left=0
  for p in $SOGO $SOGO_KIDS $DOVE $MC; do ours "$p" && left=1; done
  [ $left = 0 ] && break
  sleep 0.1
done
if ours "$PG"; then
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w -t 20 stop >/dev/null 2>&1 || true
fi
rm -f "$RUN/sogo/sogo.pid" "$RUN/memcached/memcached.pid"
left=
for p in $SOGO $SOGO_KIDS $DOVE $MC $PG; do ours "$p" && left="$left $p"; done
if [ -n "$left" ]; then
  echo "sogo stop: still running:$left" >&2
  exit 1
fi
echo "sogo stop: stopped${stopped:- (nothing was running)}"
