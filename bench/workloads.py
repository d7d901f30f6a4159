"""What each workload runs: milly's command, the floor program's (bench/floor)
and the raw client's (the `sqlite3` / `mariadb` client with the SQL of
bench/sql.py), how their rows are checked to agree, and how the long
workloads (stream, imports, contention) are driven.

Every function records its measurements on the Suite (bench/harness.py);
bench/report.py turns them into tables and PASS / MISS against
bench/targets.toml."""

import json
import os
import re
import shlex
import time

import sql
import stock_feed
from catalogs import (fixture_db, fixture_dir, galera_catalog, galera_ledger, import_targets,
                      ledger_state, migrations, positions_to_ids)
from harness import (LIST_FIELDS, RUNS, SHOW_FIELDS, WORK, CommandFailed, count_lines, log, milly_rows, run,
                     same_rows, MYSQL_IMPORT_RUNS)

PAGE_SIZE = 30
# The per-command workloads: each gets a floor column and a growth target.
PER_COMMAND = ("show", "list_page1", "list_deep", "name_rare", "name_common", "name_pair", "adjust")
CONCURRENT_PROCS, CONCURRENT_EACH = 8, 100
CONTENTION_PROCS, CONTENTION_EACH = 32, 50


def deep_page(n):
    """The page 30% into the catalog: page 10,000 of 1M products."""
    return max(2, (n * 3 // 10) // PAGE_SIZE)


def check_rows(suite, backend, what, milly_argv, others, fields):
    """Runs milly and each other side once and compares their rows: the
    same products in the same order, stock, discount, coupon, final price.
    Returns how many rows milly printed."""
    mine = milly_rows(milly_argv)
    for side, argv in others.items():
        out = run(argv, capture=True).stdout
        theirs = backend.client_rows(out) if side == "client" else json.loads(out)
        problem = same_rows(mine, theirs, fields)
        if problem:
            suite.fail(f"{backend.name} {what}: milly and the {side} differ: {problem}")
    return len(mine)


def run_backend_scale(suite, backend, scale):
    """Every workload on one catalog. Returns a problem that stops this
    backend, or None."""
    meta = fixture_dir(scale, backend.name == "mysql")
    n = meta["products"]
    try:
        target, build_s = fixture_db(backend, scale, meta)
    except CommandFailed as e:
        return str(e)
    if build_s is not None:
        suite.extra.setdefault(backend.name, {})[f"fixture_load_{scale}"] = build_s
    ids = positions_to_ids(backend, target, meta)
    sqldir = os.path.join(WORK, "sql", backend.name, scale)
    os.makedirs(sqldir, exist_ok=True)
    gen = sql.Sql(backend.name, suite.now)

    def sqlfile(name, text):
        path = os.path.join(sqldir, f"{name}.sql")
        with open(path, "w") as f:
            f.write(text)
        return path

    mode = "json" if backend.name == "sqlite" else "batch"
    m = lambda *a: backend.milly_cmd(target, *a)  # noqa: E731
    fl = lambda *a: backend.floor_cmd(target, *a)  # noqa: E731
    client = lambda name, text, mode=mode: backend.client_cmd(target, sqlfile(name, text), mode)  # noqa: E731

    def per_command(key, milly_argv, floor_argv, client_argv, fields, cls="fast", **extra):
        sides = {"milly": milly_argv, "floor": floor_argv, "client": client_argv}
        rows = None
        if fields:
            rows = check_rows(suite, backend, f"{scale} {key}", milly_argv,
                              {"floor": floor_argv, "client": client_argv}, fields)
        return suite.measure(backend.name, scale, key, sides, cls, rows=rows, **extra)

    # product show ID --user U
    per_command("show", m("-o", "json", "product", "show", ids["show"], "--user", meta["user"]),
                fl("show", ids["show"], meta["user"]),
                client("show", gen.show(ids["show"], meta["user"])), SHOW_FIELDS)

    # product list, page 1 and the page 30% in
    for key, page in (("list_page1", 1), ("list_deep", deep_page(n))):
        offset = (page - 1) * PAGE_SIZE
        per_command(key, m("-o", "json", "product", "list", "--page", str(page), "--page-size", str(PAGE_SIZE)),
                    fl("list", str(offset), str(PAGE_SIZE)),
                    client(key, gen.list_page(offset, PAGE_SIZE)), LIST_FIELDS, page=page)

    # product list --name TERM
    for kind in ("rare", "common", "pair"):
        term = meta["terms"][kind]["term"]
        per_command(f"name_{kind}", m("-o", "json", "product", "list", "--name", term),
                    fl("name", term, str(PAGE_SIZE)), client(f"name_{kind}", gen.list_name(term, PAGE_SIZE)),
                    LIST_FIELDS, term=term, hits=meta["terms"][kind]["hits"])

    # stock adjust ID --change +1, a durable commit on every side; then the
    # ledger must hold every change every side made, contiguous.
    before = ledger_state(backend, target, ids["adjust"])
    per_command("adjust", m("-o", "json", "stock", "adjust", ids["adjust"], "--change", "+1"),
                fl("adjust", ids["adjust"], "+1"), client("adjust", gen.adjust(ids["adjust"])), None, cls="write")
    after = ledger_state(backend, target, ids["adjust"])
    if after["broken"] or after["hi"] != after["n"] or after["total"] - before["total"] != after["n"] - before["n"]:
        suite.fail(f"{backend.name} {scale} adjust: the ledger is inconsistent: {before} -> {after}")

    # product list --all, streamed, against the client's one SELECT.
    argv_m = m("-o", "ndjson", "product", "list", "--all")
    argv_b = client("all", gen.list_all(), "json" if backend.name == "sqlite" else "quick")
    t = time.monotonic()
    got_m = count_lines(argv_m)
    got_b = count_lines(argv_b, skip=0 if backend.name == "sqlite" else 1)
    probe_s = (time.monotonic() - t) / 2
    if got_m != n or got_b != n:
        suite.fail(f"{backend.name} {scale} list --all: milly printed {got_m} rows, the client {got_b}, "
                   f"expected {n}")
    suite.measure(backend.name, scale, "list_all", {"milly": argv_m, "client": argv_b}, "stream",
                  peak_inside=True, probe_s=probe_s, rows=n)

    run_imports(suite, backend, scale, meta, sqlfile, gen)
    return None


def run_imports(suite, backend, scale, meta, sqlfile, gen):
    """Bulk paths into a fresh catalog: `import products` against the
    client's bulk load; then, on milly's new catalog, `import stock` of a
    feed of one change per product, and (at the largest scale) the same
    feed with and without a progress bar."""
    n = meta["products"]
    scratch_m, scratch_b = import_targets(backend, scale)
    argv_m = backend.milly_cmd(scratch_m, "--json", "import", "products", os.path.join(meta["dir"], "products.ndjson"))
    argv_b = backend.client_cmd(scratch_b, sqlfile("import", gen.bulk_load(
        os.path.join(meta["dir"], backend.name), migrations(backend.name))))
    runs = suite.runs_for("import", scale)
    if backend.name == "mysql" and suite.mode == "full":
        runs = (0, MYSQL_IMPORT_RUNS[scale])
    rec = suite.measure(backend.name, scale, "import", {"milly": argv_m, "client": argv_b}, "import",
                        prepare={"milly": backend.fresh_cmd(scratch_m), "client": backend.fresh_cmd(scratch_b)},
                        peak_inside=True, runs=runs, rows=n, events=meta["counts"]["stock_events"],
                        discounts=meta["counts"]["discounts"])
    rec["rate"] = n / rec["median"]["milly"]
    rec["client_rate"] = n / rec["median"]["client"]
    check_import(suite, backend, scratch_m, scratch_b, meta)
    backend.drop(scratch_b)

    # import stock: milly's catalog has just been imported (3 events per
    # product); each run appends one feed of n changes.
    # product ids are new on every import: the feed is written afresh.
    feed = os.path.join(WORK, "runs", f"{backend.name}-{scale}-stock-feed.csv")
    stock_feed.write_feed(feed, backend.column(scratch_m, "SELECT id FROM products ORDER BY seq"), n, seed=7)
    before = int(backend.query(scratch_m, "SELECT COUNT(*) AS n FROM stock_events")[0]["n"])
    argv = backend.milly_cmd(scratch_m, "--json", "import", "stock", feed)
    rec = suite.measure(backend.name, scale, "import_stock", {"milly": argv}, "import", peak_inside=True,
                        runs=runs, rows=n)
    rec["rate"] = n / rec["median"]["milly"]
    after = int(backend.query(scratch_m, "SELECT COUNT(*) AS n FROM stock_events")[0]["n"])
    if after - before != n * (rec["runs"] + runs[0]):
        suite.fail(f"{backend.name} {scale} import stock: {after - before} events added, "
                   f"expected {n * (rec['runs'] + runs[0])}")

    if scale == suite.largest:
        # The progress bar shows only when stderr is a terminal: both sides
        # run under `script` (a pty), one with stderr sent to /dev/null.
        cmd = shlex.join(argv)
        sides = {"milly": ["script", "-qec", cmd, "/dev/null"],
                 "no_progress": ["script", "-qec", f"{cmd} 2>/dev/null", "/dev/null"]}
        rec = suite.measure(backend.name, scale, "import_progress", sides, "import", runs=runs, rows=n)
        rec["overhead"] = rec["median"]["milly"] / rec["median"]["no_progress"] - 1
    backend.drop(scratch_m)


def check_import(suite, backend, scratch_m, scratch_b, meta):
    for who, target in (("milly", scratch_m), ("client", scratch_b)):
        rows = backend.query(target, "SELECT (SELECT COUNT(*) FROM products) AS p, "
                                     "(SELECT COUNT(*) FROM stock_events) AS e, "
                                     "(SELECT COUNT(*) FROM discounts) AS d")
        got = {k: int(v) for k, v in rows[0].items()}
        want = {"p": meta["counts"]["products"], "e": meta["counts"]["stock_events"],
                "d": meta["counts"]["discounts"]}
        if got != want:
            suite.fail(f"{backend.name} import: {who} loaded {got}, expected {want}")
    if backend.name == "sqlite":
        hits = backend.query(scratch_b, "SELECT COUNT(*) AS n FROM products_name_search "
                                        f"WHERE products_name_search MATCH '\"{meta['terms']['rare']['term']}\"'")
        if int(hits[0]["n"]) != meta["terms"]["rare"]["hits"]:
            suite.fail("sqlite import: the client's name index is incomplete")


def run_version(suite):
    warmup, runs = (20, 300) if suite.mode == "full" else (3, 20)
    log(f"milly --version vs true: {warmup} warmup + {runs} runs each")
    m, b = suite.hyperfine("version", [[suite.milly, "--version"], ["true"]], warmup, runs,
                           rounds=suite.rounds_for("fast", runs))
    suite.results.append({
        "backend": "sqlite", "scale": "-", "key": "version", "runs": runs, "class": "fast",
        "median": {"milly": m["median"], "true": b["median"]},
        "stddev": {"milly": m["stddev"], "true": b["stddev"]},
        "peak_kib": {"milly": suite.peak_kib([suite.milly, "--version"]), "true": suite.peak_kib(["true"])},
        "argv": {"milly": [suite.milly, "--version"], "true": ["true"]}})


# --------------------------------------------------------------------------
# Contention


def attempts_of(log_prefix, procs):
    """Attempts of every adjustment that succeeded, from the workers' -v logs."""
    attempts = []
    for worker in range(procs):
        path = f"{log_prefix}.{worker}"
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                found = re.fullmatch(r"milly: stock adjusted in (\d+) attempt\(s\)\n?", line)
                if found:
                    attempts.append(int(found.group(1)))
    return attempts


def clear_logs(log_prefix, procs):
    for worker in range(procs):
        if os.path.exists(f"{log_prefix}.{worker}"):
            os.remove(f"{log_prefix}.{worker}")


def attempt_stats(attempts):
    return {"first_attempt": sum(1 for a in attempts if a == 1) / max(1, len(attempts)),
            "max_attempts": max(attempts, default=0),
            "mean_attempts": sum(attempts) / max(1, len(attempts))}


def run_concurrent(suite, backend, scale):
    """8 processes × 100 adjustments of one product against the same 800 in
    one process after another; then the ledger must hold every one."""
    meta = fixture_dir(scale, backend.name == "mysql")
    target, _ = fixture_db(backend, scale, meta)
    product = positions_to_ids(backend, target, meta)["concurrent"]
    procs, each = CONCURRENT_PROCS, CONCURRENT_EACH if suite.mode == "full" else 10
    warmup, runs = RUNS["concurrent"][suite.mode]
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "concurrent.sh")
    url = backend.milly_url(target)
    attempts_log = os.path.join(WORK, "runs", f"{backend.name}-{scale}-concurrent-attempts.log")
    clear_logs(attempts_log, procs)
    conc = ["bash", script, str(procs), str(each), suite.milly, url, product, attempts_log]
    seq = ["bash", script, "1", str(procs * each), suite.milly, url, product]
    log(f"{backend.name} {scale} concurrent: {procs} x {each} adjustments vs {procs * each} "
        f"sequential, {runs} runs each")
    before = ledger_state(backend, target, product)
    results = suite.hyperfine(f"{backend.name}-{scale}-concurrent", [conc, seq], warmup, runs,
                              ignore_failure=True, rounds=suite.rounds_for("concurrent", runs))
    after = ledger_state(backend, target, product)
    expected = (warmup + runs) * 2 * procs * each
    failed_runs = sum(1 for r in results for c in r.get("exit_codes", []) if c)
    added = after["n"] - before["n"]
    ok = (added == expected and after["broken"] == 0 and after["hi"] == after["n"]
          and after["lo"] == 1 and after["total"] - before["total"] == expected and failed_runs == 0)
    attempts = attempts_of(attempts_log, procs)
    m, b = results
    rec = {"backend": backend.name, "scale": scale, "key": "concurrent", "runs": runs, "class": "concurrent",
           "median": {"milly": m["median"], "sequential": b["median"]},
           "stddev": {"milly": m["stddev"], "sequential": b["stddev"]}, "peak_kib": {},
           "argv": {"milly": conc, "sequential": seq}, "wall_ratio": m["median"] / b["median"],
           "adjustments": procs * each, "procs": procs, "each": each, "expected": expected, "added": added,
           "failures": (warmup + runs) * procs * each - len(attempts), "failed_runs": failed_runs,
           "ledger_ok": ok, **attempt_stats(attempts)}
    suite.results.append(rec)
    if failed_runs:
        suite.fail(f"{backend.name} concurrent: {failed_runs} run(s) had failed adjustments")
    if not ok:
        suite.fail(f"{backend.name} concurrent: ledger check failed: expected {expected} new events, "
                   f"found {added}; {before} -> {after}")
    print(f"   concurrent {m['median']:.2f} s  sequential {b['median']:.2f} s  ratio {rec['wall_ratio']:.2f}  "
          f"{rec['first_attempt']:.0%} first-attempt, mean {rec['mean_attempts']:.2f}, max {rec['max_attempts']}",
          flush=True)


def run_contention(suite, backend_name, urls, product, ledger, label):
    """32 processes × 50 adjustments of one product, once, writers spread
    over `urls` (one URL, or a cluster's nodes). Records failures, attempts
    and whether the ledger holds every change."""
    procs, each = CONTENTION_PROCS, CONTENTION_EACH if suite.mode == "full" else 5
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "concurrent.sh")
    attempts_log = os.path.join(WORK, "runs", f"{backend_name}-contention-attempts.log")
    clear_logs(attempts_log, procs)
    log(f"{backend_name} contention: {procs} x {each} adjustments of one product on {label}")
    before = ledger()
    t = time.monotonic()
    p = run(["bash", script, str(procs), str(each), suite.milly, " ".join(urls), product, attempts_log],
            check=False, quiet=True)
    wall = time.monotonic() - t
    after = ledger()
    attempts = attempts_of(attempts_log, procs)
    expected = procs * each
    added = after["n"] - before["n"]
    ok = added == len(attempts) and after["broken"] == 0 and after["hi"] == after["n"] \
        and after["total"] - before["total"] == added
    rec = {"backend": backend_name, "scale": label, "key": "contention_32", "runs": 1, "class": "concurrent",
           "median": {"milly": wall}, "stddev": {"milly": 0.0}, "peak_kib": {}, "argv": {},
           "procs": procs, "each": each, "expected": expected, "added": added,
           "failures": expected - len(attempts), "exit": p.returncode, "ledger_ok": ok,
           **attempt_stats(attempts)}
    suite.results.append(rec)
    if not ok:
        suite.fail(f"{backend_name} contention: the ledger does not match the successful adjustments: "
                   f"{len(attempts)} succeeded, {before} -> {after}")
    print(f"   {wall:.2f} s, {rec['failures']} failed of {expected}; {rec['first_attempt']:.0%} first-attempt, "
          f"mean {rec['mean_attempts']:.2f}, max {rec['max_attempts']}", flush=True)


def run_contention_on(suite, backend, scale):
    meta = fixture_dir(scale, backend.name == "mysql")
    target, _ = fixture_db(backend, scale, meta)
    product = positions_to_ids(backend, target, meta)["concurrent"]
    run_contention(suite, backend.name, [backend.milly_url(target)], product,
                   lambda: ledger_state(backend, target, product), scale)


def run_galera(suite, urls):
    nodes, product, drop = galera_catalog(suite.milly, urls)
    try:
        run_contention(suite, "galera", nodes, product, lambda: galera_ledger(nodes, product),
                       f"{len(nodes)} nodes")
    finally:
        drop()


# --------------------------------------------------------------------------
# milly against itself


def run_comparisons(suite, backend, scales):
    """The targets that compare milly with itself, each in one interleaved
    run: the deep page against page 1, every per-command workload on the
    largest catalog against the smallest (growth), and `--all` per row."""
    name, largest, smallest = backend.name, scales[-1], scales[0]
    show = suite.get(name, smallest, "show")
    if show and backend.name == "mysql":
        # What milly's default costs against this server without TLS: a
        # refused TLS attempt, then a second connection (see milly_url).
        argv = show["argv"]["milly"]
        default = [a.replace("?ssl-mode=disabled", "") for a in argv]
        suite.same_run(name, "tls_default", "ssl-mode=disabled", argv, "default", default, "fast")
    p1, deep = suite.get(name, largest, "list_page1"), suite.get(name, largest, "list_deep")
    if p1 and deep:
        suite.same_run(name, "deep_vs_page1", "page 1", p1["argv"]["milly"], f"page {deep['page']:,}",
                       deep["argv"]["milly"])
    if largest == smallest:
        return
    ref = "100k" if "100k" in scales and largest != "100k" else smallest
    small, big = suite.get(name, ref, "list_all"), suite.get(name, largest, "list_all")
    if small and big:
        suite.same_run(name, "linear_all", ref, small["argv"]["milly"], largest, big["argv"]["milly"], "stream",
                       probe_s=big["median"]["milly"])
    for key in PER_COMMAND:
        small, big = suite.get(name, smallest, key), suite.get(name, largest, key)
        if small and big:
            suite.same_run(name, f"growth_{key}", smallest, small["argv"]["milly"], largest, big["argv"]["milly"],
                           small["class"])
