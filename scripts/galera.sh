#!/usr/bin/env bash
# A 3-node MariaDB Galera cluster on loopback, from Debian's packages
# (mariadb-server with galera-4 and rsync), for milly's cluster tests:
#
#   node N (1..3): SQL on 127.0.0.1:340N, group communication on 127.0.0.1:440N,
#                  IST on 127.0.0.1:450N, rsync SST on 127.0.0.1:460N.
#
# Node 1 bootstraps the cluster (--wsrep-new-cluster); nodes 2 and 3 join it
# and receive its data by rsync SST. root has an empty password over TCP and
# there is a `test` database. Everything lives in $MILLY_GALERA_DIR (default
# /tmp/milly-galera); nothing listens beyond loopback.
#
#   scripts/galera.sh up       start (idempotent: running nodes are kept, a
#                              stopped one rejoins); prints the node URLs as
#                              MILLY_TEST_GALERA_URLS for eval
#   scripts/galera.sh status   size, state and readiness of each node
#   scripts/galera.sh down     stop every node and delete $MILLY_GALERA_DIR
#   scripts/galera.sh kill N   SIGKILL node N (for fault tests); `up` restarts it
set -euo pipefail

DIR="${MILLY_GALERA_DIR:-/tmp/milly-galera}"
NODES=(1 2 3)
PROVIDER=/usr/lib/galera/libgalera_smm.so

log() { printf 'galera: %s\n' "$*" >&2; }

sql() { # node statement
  mariadb --no-defaults -uroot --socket="$DIR/node$1/mysqld.sock" -N -B -e "$2" 2>/dev/null
}

status_var() { # node name
  sql "$1" "SHOW GLOBAL STATUS LIKE '$2'" | cut -f2
}

pid_of() { # node
  local f="$DIR/node$1/run.pid"
  [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

ready() { # node
  [ "$(status_var "$1" wsrep_ready)" = "ON" ] \
    && [ "$(status_var "$1" wsrep_local_state_comment)" = "Synced" ]
}

write_config() { # node
  local n=$1 d="$DIR/node$1"
  mkdir -p "$d/data"
  # As mysql, not root: the rsync daemon that receives an SST runs as the
  # server's user, and a root one would drop to "nobody" and fail to write.
  chown -R mysql:mysql "$d"
  cat >"$d/my.cnf" <<CNF
[mariadbd]
user = mysql
datadir = $d/data
socket = $d/mysqld.sock
pid-file = $d/mysqld.pid
log-error = $d/error.log
port = 340$n
bind-address = 127.0.0.1
skip-name-resolve
innodb-buffer-pool-size = 32M
innodb-log-file-size = 16M
binlog-format = ROW
default-storage-engine = InnoDB
innodb-autoinc-lock-mode = 2
wsrep-on = ON
wsrep-provider = $PROVIDER
wsrep-cluster-name = milly-test
wsrep-node-name = node$n
wsrep-node-address = 127.0.0.1:440$n
wsrep-cluster-address = gcomm://127.0.0.1:4401,127.0.0.1:4402,127.0.0.1:4403
wsrep-provider-options = "base_port=440$n;ist.recv_addr=127.0.0.1:450$n;gcache.size=32M;gmcast.listen_addr=tcp://127.0.0.1:440$n"
wsrep-sst-method = rsync
wsrep-sst-receive-address = 127.0.0.1:460$n
wsrep-slave-threads = 2
[client]
socket = $d/mysqld.sock
CNF
}

start_node() { # node [--wsrep-new-cluster]
  local n=$1 d="$DIR/node$1"
  shift
  write_config "$n"
  if [ ! -d "$d/data/mysql" ] && [ "$n" = 1 ]; then
    mariadb-install-db --defaults-file="$d/my.cnf" --user=mysql \
      --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1 \
      || { cat "$d/install.log" >&2; exit 1; }
  fi
  log "starting node$n on 127.0.0.1:340$n $*"
  # Joiners start with an empty datadir and receive everything by SST.
  start-stop-daemon --start --background --make-pidfile --pidfile "$d/run.pid" \
    --exec /usr/sbin/mariadbd -- --defaults-file="$d/my.cnf" "$@"
}

wait_ready() { # node seconds
  local n=$1 tries=$(($2 * 10))
  for _ in $(seq 1 "$tries"); do
    ready "$n" && return 0
    if ! pid_of "$n" >/dev/null; then
      sleep 0.2
      pid_of "$n" >/dev/null || { log "node$n died:"; tail -30 "$DIR/node$n/error.log" >&2; exit 1; }
    fi
    sleep 0.1
  done
  log "node$n not ready after $2 s:"
  tail -30 "$DIR/node$n/error.log" >&2
  exit 1
}

stop_node() { # node [signal]
  local pid
  pid=$(pid_of "$1") || return 0
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
}

urls() {
  echo "export MILLY_TEST_GALERA_URLS=\"mysql://root@127.0.0.1:3401/test mysql://root@127.0.0.1:3402/test mysql://root@127.0.0.1:3403/test\""
}

up() {
  local running=()
  for n in "${NODES[@]}"; do
    pid_of "$n" >/dev/null && running+=("$n")
  done
  local primary=0
  for n in "${running[@]}"; do
    ready "$n" && primary=1
  done
  if [ ${#running[@]} -gt 0 ] && [ $primary = 0 ]; then
    # Nodes that lost their majority (two killed at once) cannot take
    # joiners: start over.
    log "no running node is in a primary component; starting a new cluster"
    for n in "${running[@]}"; do stop_node "$n"; done
    running=()
  fi
  if [ ${#running[@]} -eq 0 ]; then
    # No node to join: a new cluster from scratch (a restart of a stopped
    # cluster would need the most advanced node to bootstrap; tests do not
    # need the old data, so a fresh one is quicker and always safe).
    rm -rf "$DIR"
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    start_node 1 --wsrep-new-cluster
    wait_ready 1 60
    sql 1 "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
           GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
           CREATE DATABASE IF NOT EXISTS test;"
    running=(1)
  fi
  for n in "${NODES[@]}"; do
    if ! pid_of "$n" >/dev/null; then
      # A node killed mid-write may leave a stale state file: it rejoins by
      # SST, which replaces the datadir.
      rm -rf "$DIR/node$n/data"
      start_node "$n"
    fi
  done
  for n in "${NODES[@]}"; do
    wait_ready "$n" 120
  done
  for _ in $(seq 1 100); do
    [ "$(status_var 1 wsrep_cluster_size)" = 3 ] && break
    sleep 0.1
  done
  status >&2
  urls
}

status() {
  local n
  for n in "${NODES[@]}"; do
    if pid_of "$n" >/dev/null; then
      printf 'node%s 127.0.0.1:340%s size=%s state=%s ready=%s\n' "$n" "$n" \
        "$(status_var "$n" wsrep_cluster_size)" \
        "$(status_var "$n" wsrep_local_state_comment)" \
        "$(status_var "$n" wsrep_ready)"
    else
      printf 'node%s 127.0.0.1:340%s down\n' "$n" "$n"
    fi
  done
}

case "${1:-}" in
  up) up ;;
  status) status ;;
  down)
    for n in 3 2 1; do stop_node "$n"; done
    rm -rf "$DIR"
    log "stopped"
    ;;
  kill)
    [[ "${2:-}" =~ ^[123]$ ]] || { echo "usage: $0 kill 1|2|3" >&2; exit 2; }
    stop_node "$2" KILL
    ;;
  *)
    echo "usage: $0 up|status|down|kill N" >&2
    exit 2
    ;;
esac
