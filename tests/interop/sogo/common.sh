# common.sh — settings shared by the SOGo interop scripts (sourced, not run).
#
# SOGo 5.8 from Debian 12 (packages sogo + sogo-activesync) is an ActiveSync
# server nobody on this project wrote; tests/interop/run.sh runs our client
# against it.  Everything the scripts create lives under $SOGO_BASE, and
# every daemon listens on 127.0.0.1 only, on unusual ports (override any of
# them through the environment).  Outside $SOGO_BASE only the Debian packages
# are installed: SOGo's settings live in a user-defaults domain under
# $SOGO_BASE/home (see setup.sh), /etc/sogo and /etc/dovecot are left alone.

SOGO_BASE=${SOGO_BASE:-${TMPDIR:-/tmp}/libeas-sogo}

PG_PORT=${PG_PORT:-24432}        # PostgreSQL: SOGo's tables and the user table
IMAP_PORT=${IMAP_PORT:-24143}    # Dovecot IMAP (plain text, loopback)
MC_PORT=${MC_PORT:-24211}        # memcached
SOGO_PORT=${SOGO_PORT:-24080}    # sogod: ActiveSync at /SOGo/Microsoft-Server-ActiveSync
SOGO_WORKERS=${SOGO_WORKERS:-3}  # sogod prefork children (a Ping or Sync long poll holds one)

PGBIN=/usr/lib/postgresql/15/bin
PGDATA=$SOGO_BASE/pgdata
RUN=$SOGO_BASE/run
LOG=$SOGO_BASE/log
SOGO_HOME=$SOGO_BASE/home          # GNUstep/Defaults/sogod.plist: SOGo's settings
GNUSTEP_CONF=$SOGO_BASE/GNUstep.conf  # GNUSTEP_CONFIG_FILE of sogod: finds the above
DOVECOT_CONF=$SOGO_BASE/dovecot/dovecot.conf
MAILROOT=$SOGO_BASE/mail
MAIL_DOMAIN=example.com

DB_USER=sogo
DB_PASS=sogo
DB_NAME=sogo

# Test users "name:password": the same credentials for SOGo's SQL source and Dovecot.
TEST_USERS=${TEST_USERS:-"alice:alicepass bob:bobpass"}
SEED_MESSAGES=${SEED_MESSAGES:-30}   # INBOX messages per user
SEED_CONTACTS=${SEED_CONTACTS:-5}    # vCards per user (through CardDAV once sogod runs)
SEED_EVENTS=${SEED_EVENTS:-2}        # VEVENTs per user (through CalDAV)

SOGO_URL="http://127.0.0.1:$SOGO_PORT"
EAS_URL="$SOGO_URL/SOGo/Microsoft-Server-ActiveSync"

# Packages the server side needs (the client is built by meson); libwbxml2-utils
# (wbxml2xml) is the independent decoder run.sh compares ours with.
SOGO_PKGS="sogo sogo-activesync memcached postgresql-15 dovecot-imapd curl procps libwbxml2-utils"

# Seconds to wait for one daemon to come up.
WAIT_SECONDS=${WAIT_SECONDS:-60}

sogo_password() {  # $1 = user -> its password on stdout (empty if unknown)
  local up
  for up in $TEST_USERS; do [ "${up%%:*}" = "$1" ] && { echo "${up#*:}"; return 0; }; done
  return 1
}

# wait_port PORT NAME: until something accepts on 127.0.0.1:PORT, at most WAIT_SECONDS.
wait_port() {
  local i
  for i in $(seq 1 $((WAIT_SECONDS * 10))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "sogo: timeout after ${WAIT_SECONDS}s waiting for $2 on 127.0.0.1:$1 (logs: $LOG)" >&2
  return 1
}

# pid_alive PIDFILE: the pid recorded there runs.
pid_alive() {
  local p
  [ -s "$1" ] || return 1
  p=$(head -1 "$1")
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

# prime_modseq USER: turns on Dovecot's modseq tracking (CONDSTORE) in every
# mailbox of USER.  SOGo's mail SyncKey is "UIDNEXT-HIGHESTMODSEQ" from a plain
# SELECT, and Dovecot reports HIGHESTMODSEQ only once CONDSTORE was used on the
# mailbox: without this a mail Sync answers an empty 200 forever.  Needs the
# Dovecot instance running (doveadm asks its auth service for the user).
prime_modseq() {
  # one doveadm run searches every mailbox of the user with a MODSEQ criterion
  doveadm -c "$DOVECOT_CONF" search -u "$1" mailbox '*' modseq 1 >/dev/null
}
