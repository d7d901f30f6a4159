#!/usr/bin/env bash
# Concurrent milly writers spread over the nodes of the cluster that
# scripts/galera.sh runs, reporting exit codes and distinct error messages.
#
#   scripts/galera-stress.sh create  [WRITERS] [EACH]   product create (default 6 x 30)
#   scripts/galera-stress.sh adjust  [WRITERS] [EACH]   stock adjust on one product
#   scripts/galera-stress.sh discount [WRITERS] [EACH]  discount set on one product
#   scripts/galera-stress.sh coupon  [WRITERS] [EACH]   coupon create
#   scripts/galera-stress.sh firstuse [PER_NODE]        first use of an empty database
#
# Each run uses a new database, left in place for inspection (its name is
# printed). MILLY is the binary (default target/*/release/milly, else debug).
set -uo pipefail
cd "$(dirname "$0")/.."

MILLY="${MILLY:-$(ls target/*/release/milly target/release/milly target/*/debug/milly 2>/dev/null | head -1)}"
PORTS=(3401 3402 3403)
what="${1:-create}"
db="milly_g_$(date +%s)_$RANDOM"
out=$(mktemp -d)
mariadb --no-defaults -uroot -h127.0.0.1 -P3401 -e "CREATE DATABASE $db"
url() { echo "mysql://root@127.0.0.1:${PORTS[$(($1 % 3))]}/$db"; }

run() { # writer command...
  local w=$1
  shift
  MILLY_DATABASE_URL=$(url "$w") "$MILLY" --json "$@" >>"$out/out.$w" 2>>"$out/err.$w"
  echo $? >>"$out/codes"
}

if [ "$what" = firstuse ]; then
  per=${2:-2}
  for w in $(seq 0 $((per * 3 - 1))); do run "$w" product list & done
  wait
else
  writers=${2:-6} each=${3:-30}
  if [ "$what" != create ] && [ "$what" != coupon ]; then
    MILLY_DATABASE_URL=$(url 0) "$MILLY" db migrate >/dev/null
    id=$(MILLY_DATABASE_URL=$(url 0) "$MILLY" --json product create --name Shared --price 10 --stock 1000000 |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  else
    MILLY_DATABASE_URL=$(url 0) "$MILLY" db migrate >/dev/null
  fi
  for w in $(seq 0 $((writers - 1))); do
    (
      for i in $(seq 1 "$each"); do
        case "$what" in
          create) run "$w" product create --name "w$w-$i" --price 1 ;;
          adjust) run "$w" -v stock adjust "$id" --change +1 ;;
          discount) run "$w" discount set "$id" --percent $((i % 90 + 1)) ;;
          coupon) run "$w" coupon create --user "u$w" --percent 10 --valid-to 2099-01-01 ;;
        esac
      done
    ) &
  done
  wait
fi
echo "database $db; exit codes (count code):"
sort "$out/codes" | uniq -c
echo "errors (count message):"
cat "$out"/err.* 2>/dev/null | grep '^error:' | sed -E 's/PROD[0-9A-Z]+/PROD…/g; s/w[0-9]+-[0-9]+/w…/g' | sort | uniq -c | sort -rn | head -12
q() { mariadb --no-defaults -uroot -h127.0.0.1 -P"$1" -N -e "$2" "$db" 2>&1; }
for p in "${PORTS[@]}"; do
  echo "node $p: tables=$(q "$p" 'SHOW TABLES' | tr '\n' ' ') migrations=$(q "$p" 'SELECT GROUP_CONCAT(version) FROM milly_migrations')"
done
case "$what" in
  create) q 3401 "SELECT COUNT(*) AS products, COUNT(DISTINCT seq) AS positions, MAX(seq) FROM products" ;;
  adjust) q 3401 "SELECT COUNT(*), MAX(version), MAX(total_after_change) FROM stock_events" ;;
  discount) q 3401 "SELECT COUNT(*), SUM(is_active) FROM discounts" ;;
  coupon) q 3401 "SELECT COUNT(*) FROM coupons" ;;
esac
rm -rf "$out"
