#!/usr/bin/env bash
# Two throw-away MariaDB servers for milly's TLS tests, from Debian's packages:
#   127.0.0.1:3410  TLS only (require_secure_transport=ON), with a certificate
#                   for 127.0.0.1 and localhost signed by a CA made here;
#   127.0.0.1:3411  plaintext only (TLS switched off).
# Certificates are made with openssl at run time, with a second, unrelated CA
# that must be refused. root has an empty password over TCP; each server has
# a `test` database. Nothing outside $MILLY_TLS_DIR (default /tmp/milly-tls)
# is touched, and the servers listen on loopback only.
#
#   scripts/tls-mariadb.sh up     start (idempotent); prints the variables the
#                                 tests read: eval "$(scripts/tls-mariadb.sh up)"
#   scripts/tls-mariadb.sh down   stop both and delete $MILLY_TLS_DIR
set -euo pipefail

DIR="${MILLY_TLS_DIR:-/tmp/milly-tls}"
TLS_PORT="${MILLY_TLS_PORT:-3410}"
PLAIN_PORT="${MILLY_PLAIN_PORT:-3411}"

log() { printf 'tls-mariadb: %s\n' "$*" >&2; }

make_certs() {
  local c="$DIR/certs"
  [ -s "$c/server-cert.pem" ] && return
  mkdir -p "$c"
  log "making certificates in $c"
  (
    cd "$c"
    for ca in ca other-ca; do
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -sha256 \
        -subj "/CN=milly test $ca" -keyout "$ca-key.pem" -out "$ca.pem" 2>/dev/null
    done
    openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
      -keyout server-key.pem -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
      -days 2 -sha256 -extfile server.ext -out server-cert.pem 2>/dev/null
    chmod 644 ./*.pem
  )
}

answers() { # name
  mariadb --no-defaults -uroot --socket="$DIR/$1/mysqld.sock" -e 'SELECT 1' >/dev/null 2>&1
}

start() { # name port extra-args...
  local name=$1 port=$2
  shift 2
  local data="$DIR/$name/data"
  if answers "$name"; then
    return
  fi
  if [ ! -d "$data/mysql" ]; then
    rm -rf "$data"
    mkdir -p "$data"
    mariadb-install-db --no-defaults --user=root --datadir="$data" \
      --auth-root-authentication-method=normal --skip-test-db >"$DIR/$name/install.log" 2>&1 \
      || { cat "$DIR/$name/install.log" >&2; exit 1; }
  fi
  log "starting $name on 127.0.0.1:$port"
  # run.pid is the daemon as started, known at once (mariadbd writes
  # mysqld.pid only once it is up): a server that dies on start, say on a
  # taken port, is reported now rather than after the whole wait.
  start-stop-daemon --start --background --make-pidfile --pidfile "$DIR/$name/run.pid" \
    --exec /usr/sbin/mariadbd -- --no-defaults --user=root --datadir="$data" \
    --port="$port" --bind-address=127.0.0.1 --socket="$DIR/$name/mysqld.sock" \
    --pid-file="$DIR/$name/mysqld.pid" --log-error="$DIR/$name/error.log" \
    --innodb-buffer-pool-size=16M --skip-name-resolve "$@"
  for _ in $(seq 1 100); do
    answers "$name" && break
    kill -0 "$(cat "$DIR/$name/run.pid")" 2>/dev/null || break
    sleep 0.1
  done
  answers "$name" || { log "$name did not start:"; tail -20 "$DIR/$name/error.log" >&2; exit 1; }
  mariadb --no-defaults -uroot --socket="$DIR/$name/mysqld.sock" -e "
    CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
    GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS test;"
}

stop() { # name
  local pidfile="$DIR/$1/mysqld.pid"
  if [ -s "$pidfile" ]; then
    local pid
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
}

case "${1:-}" in
  up)
    mkdir -p "$DIR"
    make_certs
    c="$DIR/certs"
    start tls "$TLS_PORT" --ssl-ca="$c/ca.pem" --ssl-cert="$c/server-cert.pem" \
      --ssl-key="$c/server-key.pem" --require-secure-transport=ON
    start plain "$PLAIN_PORT" --skip-ssl
    cat <<VARS
export MILLY_TEST_TLS_URL="mysql://root@127.0.0.1:$TLS_PORT/test"
export MILLY_TEST_TLS_CA="$c/ca.pem"
export MILLY_TEST_TLS_OTHER_CA="$c/other-ca.pem"
export MILLY_TEST_PLAIN_URL="mysql://root@127.0.0.1:$PLAIN_PORT/test"
VARS
    ;;
  down)
    stop tls
    stop plain
    rm -rf "$DIR"
    log "stopped"
    ;;
  *)
    echo "usage: $0 up|down" >&2
    exit 2
    ;;
esac
