#!/usr/bin/env bash
# setup.sh — installs SOGo 5.8 + ActiveSync and what it needs from Debian 12
# packages, and writes every piece of configuration and seed data under
# $SOGO_BASE.  Idempotent: a second run installs nothing and rewrites only
# the configuration.  Needs root (apt-get, service users).
#
#   setup.sh [--reset]     --reset: stop the instance and wipe its database,
#                          mail, logs and state first
#
# What it makes (nothing listens until start.sh):
#   PostgreSQL 15 cluster   $SOGO_BASE/pgdata        127.0.0.1:$PG_PORT
#   Dovecot IMAP instance   $SOGO_BASE/dovecot       127.0.0.1:$IMAP_PORT
#   sogod defaults domain   $SOGO_BASE/home/GNUstep/Defaults/sogod.plist
#                           (found through $SOGO_BASE/GNUstep.conf)
#   users alice, bob with $SEED_MESSAGES INBOX messages each (maildirs)
# Contacts and events are seeded by start.sh through SOGo's DAV once it runs.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/common.sh"

if [ "$(id -u)" -ne 0 ]; then
  echo "sogo setup: needs root (apt-get, service users); run as root or through sudo" >&2
  exit 1
fi
if [ "${1:-}" = --reset ]; then
  "$HERE/stop.sh" >/dev/null || true
  rm -rf "$PGDATA" "$MAILROOT" "$LOG" "$RUN" "$SOGO_BASE/dovecot" "$SOGO_HOME"
fi

t0=$(date +%s%N)
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# ---------------------------------------------------------------- packages
missing=()
for p in $SOGO_PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "sogo setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # --force-unsafe-io: no fsync per unpacked file (a throw-away test install).
  apt=(apt-get -o DPkg::Lock::Timeout=900 -o Dpkg::Options::=--force-unsafe-io -q -y)
  # Package scripts must not start the system's own postgresql/dovecot/memcached/sogo:
  # a policy-rc.d that refuses every start, for the duration of the install only.
  made_policy=0 made_nocluster=0 moved_mandb=0
  cleanup_install() {
    [ $made_policy = 1 ] && rm -f /usr/sbin/policy-rc.d
    [ $moved_mandb = 1 ] && mv -f /var/lib/man-db/auto-update.libeas /var/lib/man-db/auto-update
    [ $made_nocluster = 1 ] && rm -f /etc/postgresql-common/createcluster.d/libeas-no-main-cluster.conf
    return 0
  }
  trap cleanup_install EXIT
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  # Our cluster lives under $SOGO_BASE: skip initdb of the packaged "main" one.
  if [ ! -d /etc/postgresql/15 ] && [ ! -e /etc/postgresql-common/createcluster.d/libeas-no-main-cluster.conf ]; then
    mkdir -p /etc/postgresql-common/createcluster.d
    echo 'create_main_cluster = off' > /etc/postgresql-common/createcluster.d/libeas-no-main-cluster.conf
    made_nocluster=1
  fi
  # The man-db trigger (re-indexing every manual page) costs tens of seconds:
  # off during this install, as it was before afterwards.
  if [ -e /var/lib/man-db/auto-update ]; then
    mv /var/lib/man-db/auto-update /var/lib/man-db/auto-update.libeas
    moved_mandb=1
  fi
  "${apt[@]}" update
  "${apt[@]}" install --no-install-recommends "${missing[@]}"
  cleanup_install
  trap - EXIT
fi
t_pkgs=$(ms_since "$t0")
t1=$(date +%s%N)

for f in /usr/sbin/sogod "$PGBIN/initdb" /usr/sbin/dovecot /usr/bin/memcached /usr/bin/doveadm; do
  [ -x "$f" ] || { echo "sogo setup: $f missing after the install" >&2; exit 1; }
done
ls /usr/lib/GNUstep/SOGo/ActiveSync.SOGo >/dev/null 2>&1 ||
  { echo "sogo setup: the ActiveSync bundle (sogo-activesync) is missing" >&2; exit 1; }

mkdir -p "$SOGO_BASE" "$RUN" "$LOG" "$SOGO_BASE/dovecot/state" "$MAILROOT"
chmod 755 "$SOGO_BASE" "$RUN" "$MAILROOT"
chmod 1777 "$LOG"   # postgres, sogo and dovecot each write their own log here
install -d -o sogo -g sogo -m 755 "$RUN/sogo" "$SOGO_HOME" "$SOGO_HOME/GNUstep" "$SOGO_HOME/GNUstep/Defaults"
install -d -o postgres -g postgres -m 755 "$RUN/pg"

# ---------------------------------------------------------------- PostgreSQL
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  rm -rf "$PGDATA"
  install -d -o postgres -g postgres -m 700 "$PGDATA"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >"$LOG/initdb.log" 2>&1 ||
    { echo "sogo setup: initdb failed, see $LOG/initdb.log" >&2; exit 1; }
fi
# (re)written every time, so a changed port takes effect
sed -i '/^# libeas-sogo begin/,/^# libeas-sogo end/d' "$PGDATA/postgresql.conf"
cat >>"$PGDATA/postgresql.conf" <<CONF
# libeas-sogo begin
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$RUN/pg'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 40
# libeas-sogo end
CONF

# Database, role and users: only when they changed (saves a PostgreSQL start
# and stop, ~1.5 s, on every warm run).
users_stamp="$DB_USER $DB_NAME $TEST_USERS"
if [ "$(cat "$PGDATA/libeas-users.stamp" 2>/dev/null)" != "$users_stamp" ]; then
  pg_ctl_() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" "$@"; }
  started_pg=0
  if ! pg_ctl_ status >/dev/null 2>&1; then
    pg_ctl_ -l "$LOG/postgresql.log" -w -t "$WAIT_SECONDS" start </dev/null >/dev/null ||
      { echo "sogo setup: PostgreSQL did not start, see $LOG/postgresql.log" >&2; exit 1; }
    started_pg=1
  fi
  stop_pg() { [ $started_pg = 1 ] && pg_ctl_ -w -m fast stop >/dev/null 2>&1; started_pg=0; return 0; }
  trap stop_pg EXIT
  psql_() {
    PGOPTIONS='-c client_min_messages=warning' runuser -u postgres -- \
      psql -X -q -v ON_ERROR_STOP=1 -h "$RUN/pg" -p "$PG_PORT" "$@"
  }
  [ -n "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'")" ] ||
    psql_ -d postgres -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASS'"
  [ -n "$(psql_ -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'")" ] ||
    psql_ -d postgres -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  # SOGo's SQL user source: c_uid, c_name, c_password (md5 hex), c_cn, mail.
  psql_ -d "$DB_NAME" <<SQL
SET ROLE $DB_USER;
CREATE TABLE IF NOT EXISTS sogo_users (
  c_uid varchar(128) PRIMARY KEY, c_name varchar(128) NOT NULL,
  c_password varchar(256) NOT NULL, c_cn varchar(256), mail varchar(256));
SQL
  for up in $TEST_USERS; do
    u=${up%%:*} p=${up#*:}
    psql_ -d "$DB_NAME" -c "SET ROLE $DB_USER; INSERT INTO sogo_users VALUES ('$u', '$u', md5('$p'), 'Test User $u', '$u@$MAIL_DOMAIN') ON CONFLICT (c_uid) DO UPDATE SET c_password = EXCLUDED.c_password"
  done
  stop_pg
  trap - EXIT
  echo "$users_stamp" > "$PGDATA/libeas-users.stamp"
fi

# ---------------------------------------------------------------- Dovecot
: > "$SOGO_BASE/dovecot/passwd"
for up in $TEST_USERS; do echo "${up%%:*}:{PLAIN}${up#*:}::::::" >> "$SOGO_BASE/dovecot/passwd"; done
chown root:dovecot "$SOGO_BASE/dovecot/passwd"
chmod 640 "$SOGO_BASE/dovecot/passwd"
# A standalone instance: it does not read /etc/dovecot/conf.d.
cat > "$DOVECOT_CONF" <<CONF
# written by tests/interop/sogo/setup.sh: test instance, loopback only
instance_name = libeas-sogo
base_dir = $RUN/dovecot
state_dir = $SOGO_BASE/dovecot/state
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = $LOG/dovecot.log
info_log_path = $LOG/dovecot.log
first_valid_uid = 8
mail_uid = mail
mail_gid = mail
mail_location = maildir:$MAILROOT/%n/Maildir
imap_max_line_length = 2M
mail_plugins = acl
protocol imap {
  mail_plugins = \$mail_plugins imap_acl
}
plugin {
  acl = vfile
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN $SOGO_BASE/dovecot/passwd
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$MAILROOT/%n
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
  mailbox Trash {
    special_use = \\Trash
    auto = subscribe
  }
  mailbox Junk {
    special_use = \\Junk
    auto = subscribe
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
CONF

# ---------------------------------------------------------------- mail seed
# SEED_MESSAGES messages per user, written straight into the maildir (only when
# the INBOX is empty); every tenth one is multipart/alternative with non-ASCII text.
seed_maildir() {
  local u=$1 md=$MAILROOT/$1/Maildir i now d f
  mkdir -p "$md/cur" "$md/new" "$md/tmp"
  if [ -z "$(find "$md/cur" "$md/new" -type f -print -quit)" ]; then
    now=$(date +%s)
    for i in $(seq 1 "$SEED_MESSAGES"); do
      d=$(date -u -R -d "@$((now - (SEED_MESSAGES - i) * 3600))")
      f="$md/cur/$((now - 100000 + i)).M${i}P1.libeas-seed:2,"
      if [ $((i % 10)) = 0 ]; then
        cat > "$f" <<MSG
From: Sender $i <sender$i@example.org>
To: Test User $u <$u@$MAIL_DOMAIN>
Subject: Seed message $i (multipart)
Date: $d
Message-ID: <seed-$u-$i@example.org>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b$i"

--b$i
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Plain body of message $i. Grüße aus Köln.

--b$i
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit

<html><body><p>HTML body of message <b>$i</b>. Grüße.</p></body></html>

--b$i--
MSG
      else
        cat > "$f" <<MSG
From: Sender $i <sender$i@example.org>
To: Test User $u <$u@$MAIL_DOMAIN>
Subject: Seed message $i
Date: $d
Message-ID: <seed-$u-$i@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

This is seeded message number $i for $u.
MSG
      fi
    done
  fi
  chown -R mail:mail "$MAILROOT/$u"
}
for up in $TEST_USERS; do seed_maildir "${up%%:*}"; done

# ---------------------------------------------------------------- SOGo
# SOGo reads /etc/sogo/sogo.conf, but the "sogod" user-defaults domain wins
# over it (SOGoSystemDefaults.m: command line > sogod domain > sogo.conf).
# GNUstep finds that domain through the sogo user's passwd home (not $HOME),
# so start.sh points GNUSTEP_CONFIG_FILE at a copy of /etc/GNUstep/GNUstep.conf
# whose user-defaults directory is $SOGO_HOME/GNUstep/Defaults, and the whole
# configuration goes into sogod.plist there.  /etc/sogo stays untouched.
sed -e "s#^GNUSTEP_USER_DEFAULTS_DIR=.*#GNUSTEP_USER_DEFAULTS_DIR=$SOGO_HOME/GNUstep/Defaults#" \
    -e "s#^GNUSTEP_USER_CONFIG_FILE=.*#GNUSTEP_USER_CONFIG_FILE=$SOGO_HOME/GNUstep.conf#" \
    /etc/GNUstep/GNUstep.conf > "$GNUSTEP_CONF"
grep -q "^GNUSTEP_USER_DEFAULTS_DIR=$SOGO_HOME/" "$GNUSTEP_CONF" ||
  echo "GNUSTEP_USER_DEFAULTS_DIR=$SOGO_HOME/GNUstep/Defaults" >> "$GNUSTEP_CONF"
chmod 644 "$GNUSTEP_CONF"
DBURL="postgresql://$DB_USER:$DB_PASS@127.0.0.1:$PG_PORT/$DB_NAME"
cat > "$SOGO_HOME/GNUstep/Defaults/sogod.plist" <<CONF
{
  /* written by tests/interop/sogo/setup.sh: test instance, loopback only */
  WOPort = "127.0.0.1:$SOGO_PORT";
  WOWorkersCount = $SOGO_WORKERS;
  WOLogFile = "$LOG/sogo.log";
  WOPidFile = "$RUN/sogo/sogo.pid";
  WOWatchDogRequestTimeout = 10;

  SOGoProfileURL = "$DBURL/sogo_user_profile";
  OCSFolderInfoURL = "$DBURL/sogo_folder_info";
  OCSSessionsFolderURL = "$DBURL/sogo_sessions_folder";
  OCSEMailAlarmsFolderURL = "$DBURL/sogo_alarms_folder";
  OCSStoreURL = "$DBURL/sogo_store";
  OCSAclURL = "$DBURL/sogo_acl";
  OCSCacheFolderURL = "$DBURL/sogo_cache_folder";

  SOGoUserSources = (
    {
      type = sql;
      id = users;
      viewURL = "$DBURL/sogo_users";
      canAuthenticate = YES;
      isAddressBook = NO;
      userPasswordAlgorithm = md5;
    }
  );

  SOGoIMAPServer = "imap://127.0.0.1:$IMAP_PORT";
  SOGoMailingMechanism = smtp;
  SOGoSMTPServer = "smtp://127.0.0.1:1";
  SOGoMailDomain = $MAIL_DOMAIN;
  SOGoSentFolderName = Sent;
  SOGoTrashFolderName = Trash;
  SOGoDraftsFolderName = Drafts;
  SOGoJunkFolderName = Junk;
  SOGoIMAPAclConformsToIMAPExt = YES;
  SOGoMailAuxiliaryUserAccountsEnabled = NO;
  SOGoSieveScriptsEnabled = NO;
  SOGoVacationEnabled = NO;
  SOGoForwardEnabled = NO;

  SOGoMemcachedHost = "127.0.0.1:$MC_PORT";
  SOGoLanguage = English;
  SOGoTimeZone = UTC;
  SOGoAppointmentSendEMailNotifications = NO;
  SOGoEnableEMailAlarms = NO;

  /* ActiveSync */
  SOGoMaximumPingInterval = 30;   /* a Ping HeartbeatInterval above this gets Status 5 */
  SOGoMaximumSyncInterval = 30;
  SOGoInternalSyncInterval = 5;   /* change polling period (5 s is the minimum) */
  /* SOGoMaximumSyncWindowSize unset: when set it REPLACES the client's WindowSize */
  SOGoEASDebugEnabled = ${SOGO_EAS_DEBUG:-NO};
}
CONF
chown sogo:sogo "$SOGO_HOME/GNUstep/Defaults/sogod.plist"
chmod 600 "$SOGO_HOME/GNUstep/Defaults/sogod.plist"
# Check that sogod will see it (an unnoticed fallback to /etc/sogo would point
# SOGo at the wrong database and leave it without users).
runuser -u sogo -- env -i GNUSTEP_CONFIG_FILE="$GNUSTEP_CONF" PATH=/usr/bin:/bin \
  defaults read sogod WOPort 2>/dev/null | grep -q "127.0.0.1:$SOGO_PORT" ||
  { echo "sogo setup: GNUstep does not read $SOGO_HOME/GNUstep/Defaults/sogod.plist" >&2; exit 1; }

echo "sogo setup: done in $SOGO_BASE (packages $(( t_pkgs / 1000 )).$(( t_pkgs % 1000 / 100 )) s, configuration $(ms_since "$t1") ms)"
