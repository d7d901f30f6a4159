"""Where the benchmark's catalogs live: the two backends (how milly, the
floor program and the raw client are pointed at a database) and the cached
fixture catalogs, loaded once through milly's own bulk path."""

import json
import os
import shutil
import time

import fixtures
from harness import ROOT, WORK, CommandFailed, log, parse_tsv, run

SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SEED = 42
MYSQL_HOST, MYSQL_PORT, MYSQL_USER = "127.0.0.1", 3306, "root"
MARIADB = ["mariadb", "--protocol=tcp", f"-h{MYSQL_HOST}", f"-P{MYSQL_PORT}", f"-u{MYSQL_USER}"]


class Backend:
    """What differs between SQLite and MySQL: where the catalog lives, how
    milly and the floor are pointed at it, and how the client runs SQL."""

    name = ""

    def __init__(self, milly, floor):
        self.milly = milly
        self.floor = floor

    def milly_url(self, target):
        """The URL milly is given: the backend's, with what a well-set-up
        operator adds (see MysqlBackend)."""
        return self.url(target)

    def milly_cmd(self, target, *args):
        return [self.milly, "--database-url", self.milly_url(target), *args]

    def floor_cmd(self, target, *args):
        return [self.floor, self.url(target), *args]


class SqliteBackend(Backend):
    name = "sqlite"
    client = "sqlite3"

    def url(self, target):
        return f"sqlite:{target}"

    def db_for(self, scale):
        return os.path.join(WORK, "sqlite", f"{scale}.db")

    def fresh(self, target):
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(target + suffix):
                os.remove(target + suffix)

    def fresh_cmd(self, target):
        return ["rm", "-f", target, target + "-wal", target + "-shm"]

    drop = fresh

    def client_cmd(self, target, sql_file, mode="json"):
        return ["sqlite3", f"-{mode}", target, f".read {sql_file}"]

    def client_rows(self, stdout):
        return json.loads(stdout) if stdout.strip() else []

    def query(self, target, text):
        out = run(["sqlite3", "-json", target, text], capture=True).stdout
        return json.loads(out) if out.strip() else []

    def column(self, target, text):
        """One column of a query, streamed as lines."""
        return run(["sqlite3", "-list", target, text], capture=True).stdout.split()

    def available(self):
        return True, ""


class MysqlBackend(Backend):
    name = "mysql"
    client = "mariadb"

    def url(self, target):
        return f"mysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}/{target}"

    def milly_url(self, target):
        # The benchmark's server has no TLS. milly's default (preferred)
        # would try TLS, be told no, and connect again in plaintext; the
        # README tells operators of such a server to say ssl-mode=disabled,
        # which is what the floor and the client do too. The cost of the
        # default is reported on its own (workloads.run_comparisons, "tls_default").
        return self.url(target) + "?ssl-mode=disabled"

    def db_for(self, scale):
        return f"milly_bench_{scale}"

    def fresh(self, target):
        run(self.fresh_cmd(target), quiet=True)

    def fresh_cmd(self, target):
        return [*MARIADB, "-e", f"DROP DATABASE IF EXISTS {target}; CREATE DATABASE {target}"]

    def drop(self, target):
        run([*MARIADB, "-e", f"DROP DATABASE IF EXISTS {target}"], quiet=True)

    def client_cmd(self, target, sql_file, mode="batch"):
        extra = ["--quick"] if mode == "quick" else []
        return [*MARIADB, "-B", *extra, "--local-infile=1", "-D", target, "-e", f"source {sql_file}"]

    def client_rows(self, stdout):
        return parse_tsv(stdout)

    def query(self, target, text):
        out = run([*MARIADB, "-B", "-D", target, "-e", text], capture=True).stdout
        return parse_tsv(out)

    def column(self, target, text):
        return run([*MARIADB, "-N", "-B", "--quick", "-D", target, "-e", text], capture=True).stdout.split()

    def available(self):
        if not shutil.which("mariadb"):
            return False, "the mariadb client is not installed"
        p = run([*MARIADB, "-e", "SELECT 1"], check=False, capture=True)
        if p.returncode != 0:
            return False, f"MariaDB does not answer on {MYSQL_HOST}:{MYSQL_PORT}: {p.stderr.strip()}"
        return True, ""


def backend_named(name, milly, floor):
    return SqliteBackend(milly, floor) if name == "sqlite" else MysqlBackend(milly, floor)


def fixture_dir(scale, mysql):
    d = os.path.join(WORK, "fixtures", f"{scale}-seed{SEED}-v{fixtures.GENERATOR_VERSION}")
    meta_path = os.path.join(d, "meta.json")
    meta = None
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            meta = json.load(f)
    if meta is None or (mysql and not meta.get("mysql_csv")):
        log(f"generating the {scale} fixture in {os.path.relpath(d, ROOT)}")
        t = time.monotonic()
        meta = fixtures.generate(SCALES[scale], d, SEED, mysql or bool(meta and meta.get("mysql_csv")))
        log(f"  {meta['counts']} in {time.monotonic() - t:.1f} s")
    meta["dir"] = d
    return meta


def fixture_db(backend, scale, meta):
    """The cached catalog for (backend, scale), loaded with `milly import`.
    Returns (target, build seconds or None when cached)."""
    target = backend.db_for(scale)
    marker = os.path.join(WORK, backend.name, f"{scale}.fixture.json")
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    key = {"fixture": os.path.basename(meta["dir"])}
    if os.path.exists(marker):
        with open(marker) as f:
            if json.load(f) == key and fixture_present(backend, target, meta):
                # A catalog cached by an older milly: upgrade its schema as
                # an operator would (MySQL refuses an outdated schema).
                run(backend.milly_cmd(target, "db", "migrate"), quiet=True)
                return target, None
    log(f"loading the {scale} catalog into {backend.name} with milly import")
    backend.fresh(target)
    t = time.monotonic()
    for what, path in (("products", "products.ndjson"), ("coupons", "coupons.ndjson")):
        p = run(backend.milly_cmd(target, "--json", "import", what, os.path.join(meta["dir"], path)),
                check=False, capture=True)
        if p.returncode != 0:
            raise CommandFailed(f"milly import {what} failed (exit {p.returncode}): {p.stderr.strip()}")
    took = time.monotonic() - t
    log(f"  loaded in {took:.1f} s")
    with open(marker, "w") as f:
        json.dump(key, f)
    return target, took


def fixture_present(backend, target, meta):
    try:
        rows = backend.query(target, f"SELECT COUNT(*) AS n FROM products WHERE seq = {meta['products']}")
        return bool(rows) and int(rows[0]["n"]) == 1
    except CommandFailed:
        return False


def positions_to_ids(backend, target, meta):
    pos = meta["positions"]
    seqs = ",".join(str(v) for v in pos.values())
    rows = backend.query(target, f"SELECT seq, id FROM products WHERE seq IN ({seqs})")
    by_seq = {int(r["seq"]): r["id"] for r in rows}
    return {k: by_seq[v] for k, v in pos.items()}


def ledger_state(backend, target, product_id):
    """Count, versions, breaks and the final total of one product's ledger:
    after concurrent writers it must hold every change, contiguous."""
    change = "change" if backend.name == "sqlite" else "`change`"
    rows = backend.query(target, f"""
        SELECT COUNT(*) AS n, MIN(version) AS lo, MAX(version) AS hi,
               SUM(CASE WHEN total_after_change <> prev + {change} THEN 1 ELSE 0 END) AS broken,
               MAX(CASE WHEN version = top THEN total_after_change END) AS total
          FROM (SELECT version, total_after_change, {change},
                       COALESCE(LAG(total_after_change) OVER (ORDER BY version), 0) AS prev,
                       MAX(version) OVER () AS top
                  FROM stock_events WHERE product_id = '{product_id}') x""")
    r = rows[0]
    return {k: int(r[k]) for k in ("n", "lo", "hi", "broken", "total")}


def import_targets(backend, scale):
    if backend.name == "sqlite":
        d = os.path.join(WORK, "sqlite")
        return os.path.join(d, f"import-milly-{scale}.db"), os.path.join(d, f"import-base-{scale}.db")
    return f"milly_bench_import_{scale}", f"milly_bench_load_{scale}"


def migrations(backend_name):
    d = os.path.join(ROOT, "migrations", backend_name)
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".sql")]


def galera_urls():
    """The 3 nodes' URLs from MILLY_TEST_GALERA_URLS (space-separated, as
    `eval "$(scripts/galera.sh up)"` sets it), or None."""
    urls = os.environ.get("MILLY_TEST_GALERA_URLS", "").split()
    return urls or None


def galera_catalog(milly, urls, name="milly_bench_galera"):
    """A fresh one-product catalog on the cluster, created through node 1
    and visible on every node before it is used. Returns (node URLs for the
    catalog, product id)."""
    def client(url):
        hostport = url.split("@")[-1].split("/")[0]
        host, _, port = hostport.partition(":")
        return ["mariadb", "--protocol=tcp", f"-h{host}", f"-P{port or 3306}", "-uroot"]
    run([*client(urls[0]), "-e", f"DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"], quiet=True)
    nodes = [f"{u.rsplit('/', 1)[0]}/{name}" for u in urls]
    run([milly, "--database-url", nodes[0], "import", "products", "-"], quiet=True,
        input='{"name":"Galera contention","price":"1.00","stock":0}\n')
    product = None
    for url in urls:
        # A causal read on each node waits until it has applied the import.
        out = run([*client(url), "-N", "-B", "-D", name, "-e",
                   "SET SESSION wsrep_sync_wait = 15; SELECT id FROM products"], capture=True).stdout.split()
        if not out:
            raise CommandFailed(f"the Galera node {url} does not see the benchmark catalog")
        product = out[0]
    return nodes, product, lambda: run([*client(urls[0]), "-e", f"DROP DATABASE IF EXISTS {name}"],
                                       quiet=True, check=False)


def galera_ledger(urls_for_catalog, product):
    """The product's ledger state as node 1 sees it (causal read)."""
    url = urls_for_catalog[0]
    hostport = url.split("@")[-1].split("/")[0]
    host, _, port = hostport.partition(":")
    db = url.rsplit("/", 1)[1]
    out = run(["mariadb", "--protocol=tcp", f"-h{host}", f"-P{port or 3306}", "-uroot", "-B", "-D", db, "-e",
               "SET SESSION wsrep_sync_wait = 15; "
               "SELECT COUNT(*) AS n, MIN(version) AS lo, MAX(version) AS hi, 0 AS broken, "
               f"MAX(total_after_change) AS total FROM stock_events WHERE product_id = '{product}'"],
              capture=True).stdout
    r = parse_tsv(out)[0]
    return {k: int(r[k]) for k in ("n", "lo", "hi", "broken", "total")}
