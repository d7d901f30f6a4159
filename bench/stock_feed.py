#!/usr/bin/env python3
"""`import stock` throughput, and a feed applied as one import versus one
`stock adjust` process per row. Not part of `cargo test` (timings are never
judged there) nor of bench/run.py; run it by hand on a quiet machine:

    cargo build-static            # or: cargo build --release
    python3 bench/stock_feed.py [--rows 100000] [--compare 10000] [--mysql URL]

Each backend gets a fresh database with 1,000 products; the feeds spread
changes over them at random (seeded, so every run applies the same feed),
and every run ends with `stock verify` so a fast wrong answer cannot pass.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CANDIDATES = [
    os.path.join(ROOT, "target/x86_64-unknown-linux-gnu/release/milly"),
    os.path.join(ROOT, "target/release/milly"),
]
PRODUCTS = 1_000


def milly_binary():
    found = [p for p in CANDIDATES if os.path.exists(p)]
    if not found:
        sys.exit("build first: cargo build-static (or cargo build --release)")
    return max(found, key=os.path.getmtime)


class Backend:
    def __init__(self, name, url, cleanup=None):
        self.name, self.url, self.cleanup = name, url, cleanup

    def run(self, milly, *args, stdin=None, check=True):
        env = dict(os.environ, MILLY_DATABASE_URL=self.url)
        out = subprocess.run([milly, *args], env=env, input=stdin,
                             capture_output=True, text=True)
        if check and out.returncode != 0:
            sys.exit(f"{self.name}: milly {' '.join(args)} failed ({out.returncode}): {out.stderr}")
        return out


def sqlite_backend(folder):
    return Backend("sqlite", f"sqlite:{folder}/feed.db")


def mysql_backend(admin_url):
    name = f"milly_feed_{random.getrandbits(32):08x}"
    base = admin_url.rsplit("/", 1)[0]
    host = base.split("@")[-1].split(":")[0]
    port = base.rsplit(":", 1)[-1] if base.count(":") > 1 else "3306"
    client = ["mariadb", "--protocol=tcp", "-h", host, "-P", port, "-uroot"]
    subprocess.run(client + ["-e", f"CREATE DATABASE {name}"], check=True)
    return Backend("mysql", f"{base}/{name}",
                   lambda: subprocess.run(client + ["-e", f"DROP DATABASE {name}"], check=True))


def load_products(milly, backend):
    rows = "".join(f'{{"name":"Item {i}","price":"1.00","stock":1000000}}\n' for i in range(PRODUCTS))
    backend.run(milly, "-o", "json", "import", "products", "-", stdin=rows)
    out = backend.run(milly, "-o", "csv", "product", "list", "--all")
    return [line.split(",")[0] for line in out.stdout.splitlines()[1:]]


def feed(ids, rows, seed):
    rng = random.Random(seed)
    return [(rng.choice(ids), rng.choice(["+3", "-2", "+1", "-1"])) for _ in range(rows)]


def write_feed(path, ids, rows, seed, changes=("+1", "+2", "+3")):
    """A CSV feed for `milly import stock` of `rows` changes spread over
    `ids` at random (seeded). The default changes only add stock, so a feed
    applies to any catalog whatever its stock (bench/workloads.py uses it
    on the benchmark's catalogs)."""
    rng = random.Random(seed)
    with open(path, "w") as f:
        f.write("product_id,change\n")
        for _ in range(rows):
            f.write(f"{rng.choice(ids)},{rng.choice(changes)}\n")


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def verify(milly, backend, events):
    out = backend.run(milly, "-o", "json", "stock", "verify")
    if f'"events_checked": {events}' not in out.stdout or '"problems": 0' not in out.stdout:
        sys.exit(f"{backend.name}: unexpected verify result {out.stdout}")


def bench(milly, backend, rows, compare):
    ids = load_products(milly, backend)
    events = PRODUCTS
    results = {}
    big = "product_id,change\n" + "".join(f"{p},{c}\n" for p, c in feed(ids, rows, 1))
    seconds = timed(lambda: backend.run(milly, "import", "stock", "-", stdin=big))
    events += rows
    results["import"] = (rows, seconds)
    small = feed(ids, compare, 2)
    text = "product_id,change\n" + "".join(f"{p},{c}\n" for p, c in small)
    seconds = timed(lambda: backend.run(milly, "import", "stock", "-", stdin=text))
    events += compare
    results["feed"] = (compare, seconds)

    # As a feed script runs it today: one process per row, from a shell.
    script = "set -e\n" + "".join(
        f"{milly} stock adjust {p} --change={c} >/dev/null\n" for p, c in small)
    env = dict(os.environ, MILLY_DATABASE_URL=backend.url)
    seconds = timed(lambda: subprocess.run(["sh"], input=script, text=True, env=env, check=True))
    events += compare
    results["adjust"] = (compare, seconds)
    verify(milly, backend, events)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="rows of the throughput feed")
    ap.add_argument("--compare", type=int, default=10_000, help="rows of the feed compared with adjust processes")
    ap.add_argument("--mysql", default=os.environ.get("MILLY_TEST_MYSQL_URL"),
                    help="admin URL of a MySQL/MariaDB server (default: $MILLY_TEST_MYSQL_URL); none: SQLite only")
    args = ap.parse_args()
    milly = milly_binary()
    print(f"binary: {milly}")
    with tempfile.TemporaryDirectory() as folder:
        backends = [sqlite_backend(folder)]
        if args.mysql:
            backends.append(mysql_backend(args.mysql))
        for backend in backends:
            try:
                r = bench(milly, backend, args.rows, args.compare)
            finally:
                if backend.cleanup:
                    backend.cleanup()
            rows, s = r["import"]
            print(f"{backend.name}: import stock, {rows} rows over {PRODUCTS} products: {s:.2f} s = {rows / s:,.0f} rows/s")
            (n, feed_s), (_, adjust_s) = r["feed"], r["adjust"]
            print(f"{backend.name}: {n} changes as one import stock: {feed_s:.2f} s; "
                  f"as {n} stock adjust processes: {adjust_s:.2f} s ({adjust_s / n * 1000:.2f} ms each); "
                  f"{adjust_s / feed_s:,.0f}x")


if __name__ == "__main__":
    main()
