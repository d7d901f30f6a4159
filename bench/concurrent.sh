#!/usr/bin/env bash
# PROCS processes, each running EACH `milly stock adjust PRODUCT --change +1`
# one after another, all against one product. With PROCS=1 it is the
# sequential reference. Exits 1 if any adjustment failed.
#
#   bench/concurrent.sh PROCS EACH MILLY DATABASE_URLS PRODUCT_ID [LOG]
#
# DATABASE_URLS is one URL, or several separated by spaces (the nodes of a
# cluster): worker N writes through URL number N modulo their count, so the
# writers are spread over the nodes.
#
# With LOG, milly runs with -v and each worker appends its stderr ("stock
# adjusted in N attempt(s)", or the error) to LOG.<worker>, for counting
# attempts and failures. One file per worker: milly writes that line in
# several write() calls, so processes sharing one file would interleave
# their lines.
set -u
procs=$1 each=$2 milly=$3 product=$5 log=${6:-/dev/null}
read -r -a urls <<<"$4"
verbose=()
[ "$log" != /dev/null ] && verbose=(-v)

worker() {
  local failed=0 i out=/dev/null url=${urls[$(($1 % ${#urls[@]}))]}
  [ "$log" != /dev/null ] && out="$log.$1"
  for ((i = 0; i < each; i++)); do
    "$milly" "${verbose[@]}" --database-url "$url" stock adjust "$product" --change +1 \
      >/dev/null 2>>"$out" || failed=$((failed + 1))
  done
  [ "$failed" -eq 0 ]
}

pids=()
for ((p = 0; p < procs; p++)); do
  worker "$p" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
[ "$status" -eq 0 ] || echo "concurrent.sh: some adjustments failed" >&2
exit "$status"
