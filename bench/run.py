#!/usr/bin/env python3
"""milly's benchmark suite: every command against the raw database doing the
same work, timed as whole processes with hyperfine.

    python3 bench/run.py                      # everything (about 16 min)
    python3 bench/run.py --smoke              # 10k only, a few runs (< 2 min)
    python3 bench/run.py --scale 1m --backend sqlite

What it does, in order:
  1. installs hyperfine and GNU time if missing (apt-get), builds milly with
     `cargo build-static` (the opt-in static, non-PIE release build defined in
     .cargo/config.toml; a plain `cargo build --release` on hosts other than
     x86-64 Linux) and benchmarks a copy of the binary (so a build running
     meanwhile in the same tree cannot swap it mid-run);
  2. makes the fixtures (bench/fixtures.py, seeded) for each scale and loads
     them through milly's own bulk path, `milly import`, into a cached
     database per backend and scale: target/bench/sqlite/<scale>.db and the
     MariaDB database milly_bench_<scale>;
  3. runs each workload with hyperfine, milly and its baseline in the same
     run: the `sqlite3` / `mariadb` client executing hand-written SQL for the
     same result (bench/sql.py), after checking that both return the same
     rows; peak memory comes from GNU time (%M);
  4. prints medians, ratios milly / baseline, peak memory and every target of
     issue 5 with PASS / MISS, and writes the results into BENCHMARKS.md
     (not with --smoke, --no-write or a partial --scale).

Exit status: 0 when every command ran (whatever the targets say), 1 when a
command failed or returned different rows from its baseline, 2 for bad
usage. Targets are checked here, never in `cargo test`.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixtures  # noqa: E402
import sql  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench")
SCALES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SEED = 42
MYSQL_HOST, MYSQL_PORT, MYSQL_USER = "127.0.0.1", 3306, "root"
MARIADB = ["mariadb", "--protocol=tcp", f"-h{MYSQL_HOST}", f"-P{MYSQL_PORT}", f"-u{MYSQL_USER}"]
PAGE_SIZE = 30
CONCURRENT_PROCS, CONCURRENT_EACH = 8, 100

# Runs per workload class. "fast" and "write" commands are probed once and
# get as many runs as fit in a time budget per command, between a minimum
# and a maximum (so a 2 ms lookup gets 150 runs and a 1.5 s scan 5); the
# long classes have fixed counts by scale. Values: (warmup, runs) or
# {"budget": seconds, "min": runs, "max": runs}.
RUNS = {
    "fast": {"full": {"budget": 4.0, "min": 5, "max": 150}, "smoke": {"budget": 0.3, "min": 3, "max": 10}},
    "write": {"full": {"budget": 4.0, "min": 5, "max": 100}, "smoke": {"budget": 0.3, "min": 3, "max": 10}},
    "stream": {"full": {"budget": 25.0, "min": 3, "max": 20}, "smoke": {"budget": 1.0, "min": 2, "max": 3}},
    "import": {"full": {"10k": (0, 10), "100k": (0, 5), "1m": (0, 3)}, "smoke": (0, 2)},
    "concurrent": {"full": (0, 3), "smoke": (0, 1)},
}
MYSQL_IMPORT_RUNS = {"10k": 5, "100k": 3, "1m": 1}


def log(msg):
    print(f"== {msg}", flush=True)


def warn(msg):
    print(f"!! {msg}", flush=True)


class CommandFailed(Exception):
    pass


def run(cmd, check=True, capture=False, env=None, stdin=None, quiet=False):
    """Runs argv; returns CompletedProcess. Raises CommandFailed on failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE if capture or quiet else None,
                       stderr=subprocess.PIPE if capture or quiet else None,
                       text=True, env=env, stdin=stdin)
    if check and p.returncode != 0:
        detail = (p.stderr or "").strip()[-2000:] if (capture or quiet) else ""
        raise CommandFailed(f"{shlex.join(cmd)} exited {p.returncode}\n{detail}")
    return p


# --------------------------------------------------------------------------
# Tools and build


def ensure_tools(need_mysql):
    """Installs what the suite runs. Raises CommandFailed when a tool every
    run needs cannot be installed; without the `mariadb` client the MySQL
    part is skipped later."""
    wanted = []
    if not shutil.which("hyperfine"):
        wanted.append("hyperfine")
    if not os.access("/usr/bin/time", os.X_OK):
        wanted.append("time")
    if not shutil.which("sqlite3"):
        wanted.append("sqlite3")
    if wanted:
        apt_install(wanted)
    if need_mysql and not shutil.which("mariadb"):
        try:
            apt_install(["mariadb-client"])
        except CommandFailed as e:
            warn(f"cannot install the mariadb client: {e}")


def apt_install(wanted):
    log(f"installing {' '.join(wanted)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", *wanted]
    if run(cmd, check=False, quiet=True, env=env).returncode != 0:
        run(["apt-get", "update", "-qq"], quiet=True, env=env)
        run(cmd, quiet=True, env=env)


def static_build_works_here():
    """`cargo build-static` targets x86-64 Linux with glibc only."""
    return sys.platform.startswith("linux") and platform.machine() == "x86_64" \
        and platform.libc_ver()[0] == "glibc"


def build_milly(build=True):
    """Builds milly (unless told not to) and copies the binary to
    target/bench/bin. Cargo names the binary's path: with `cargo build-static`
    it is target/x86_64-unknown-linux-gnu/release/milly, with the default
    build target/release/milly."""
    if static_build_works_here():
        cmd = ["cargo", "build-static"]
    else:
        cmd = ["cargo", "build", "--release", "--bin", "milly"]
    cmd.append("--message-format=json-render-diagnostics")
    built = None
    if not build:
        # The newest release binary, static or not.
        found = [os.path.join(ROOT, "target", d, "release", "milly") for d in os.listdir(os.path.join(ROOT, "target"))]
        found = [f for f in found + [os.path.join(ROOT, "target", "release", "milly")] if os.path.isfile(f)]
        if not found:
            raise CommandFailed("no release build of milly under target/: run without --no-build")
        built = max(found, key=os.path.getmtime)
        log(f"benchmarking {os.path.relpath(built, ROOT)} as it is")
        lines = []
    else:
        log(shlex.join(cmd[:-1]))
        p = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise CommandFailed(f"{shlex.join(cmd)} exited {p.returncode}")
        lines = p.stdout.splitlines()
    for line in lines:
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") == "compiler-artifact" and msg.get("target", {}).get("name") == "milly" \
                and msg.get("executable"):
            built = msg["executable"]
    if not built:
        raise CommandFailed("cargo did not report the milly executable")
    os.makedirs(os.path.join(WORK, "bin"), exist_ok=True)
    dest = os.path.join(WORK, "bin", "milly")
    shutil.copy2(built, dest + ".tmp")
    os.replace(dest + ".tmp", dest)
    return dest


def git_describe():
    def out(*cmd):
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else ""
    head = out("git", "rev-parse", "--short", "HEAD")
    dirty = out("git", "status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml",
                "Cargo.lock", "migrations")
    return head + (" + uncommitted changes in src/" if dirty else "")


def machine_info():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = 0
    try:
        with open("/proc/meminfo") as f:
            mem_gib = round(int(f.readline().split()[1]) / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    sqlite3_version = run(["sqlite3", "-version"], capture=True).stdout.split()[0]
    bundled = "?"
    try:
        with open(os.path.join(ROOT, "Cargo.lock")) as f:
            m = re.search(r'name = "libsqlite3-sys"\nversion = "([^"]+)"', f.read())
            bundled = f"libsqlite3-sys {m.group(1)}" if m else "?"
    except OSError:
        pass
    hyperfine = run(["hyperfine", "--version"], capture=True).stdout.strip()
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{mem_gib} GiB",
        "kernel": platform.release(),
        "sqlite3": sqlite3_version,
        "milly_sqlite": bundled,
        "hyperfine": hyperfine,
        "load": os.getloadavg()[0],
    }


# --------------------------------------------------------------------------
# Fixtures


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


class Backend:
    """What differs between SQLite and MySQL: where the catalog lives, how
    milly is pointed at it, and how the baseline client runs SQL."""

    name = ""

    def __init__(self, milly):
        self.milly = milly

    def milly_cmd(self, target, *args):
        return [self.milly, "--database-url", self.url(target), *args]


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

    def query(self, target, text):
        out = run(["sqlite3", "-json", target, text], capture=True).stdout
        return json.loads(out) if out.strip() else []

    def available(self):
        return True, ""


class MysqlBackend(Backend):
    name = "mysql"
    client = "mariadb"

    def url(self, target):
        return f"mysql://{MYSQL_USER}@{MYSQL_HOST}:{MYSQL_PORT}/{target}"

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

    def query(self, target, text):
        out = run([*MARIADB, "-B", "-D", target, "-e", text], capture=True).stdout
        return parse_tsv(out)

    def available(self):
        if not shutil.which("mariadb"):
            return False, "the mariadb client is not installed"
        p = run([*MARIADB, "-e", "SELECT 1"], check=False, capture=True)
        if p.returncode != 0:
            return False, f"MariaDB does not answer on {MYSQL_HOST}:{MYSQL_PORT}: {p.stderr.strip()}"
        return True, ""


def parse_tsv(text):
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    if not lines:
        return []
    head = lines[0].split("\t")
    rows = []
    for line in lines[1:]:
        values = [None if v == "NULL" else v for v in line.split("\t")]
        rows.append(dict(zip(head, values)))
    return rows


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


# --------------------------------------------------------------------------
# Timing


class Suite:
    def __init__(self, args, milly, info):
        self.args = args
        self.mode = "smoke" if args.smoke else "full"
        self.milly = milly
        self.info = info
        self.failures = []
        self.results = []  # dicts, see pair()
        self.comparisons = []  # milly against milly in one run, see same_run()
        self.extra = {}  # backend -> notes (fixture build times, etc.)
        self.now = datetime.datetime.now(datetime.timezone.utc)
        os.makedirs(os.path.join(WORK, "runs"), exist_ok=True)
        os.makedirs(os.path.join(WORK, "sql"), exist_ok=True)

    def runs_for(self, cls, scale, probe_s=None):
        """(warmup, runs) for a workload class; adaptive classes need the
        seconds one run took."""
        spec = RUNS[cls][self.mode]
        if isinstance(spec, dict) and "budget" in spec:
            runs = int(spec["budget"] / max(probe_s, 1e-4))
            runs = max(spec["min"], min(spec["max"], runs))
            return max(1, min(10, runs // 10)), runs
        return spec[scale] if isinstance(spec, dict) else spec

    def rounds_for(self, cls, runs):
        """Fast commands: 3 rounds of a third of the runs each; long ones
        alternate run by run."""
        if self.mode == "smoke":
            return 1
        return 3 if cls in ("fast", "write") else runs

    def same_run(self, backend, key, label_a, argv_a, label_b, argv_b, cls="fast", probe_s=None):
        """Times two milly commands against each other in one interleaved
        run (growth across scales, deep page against page 1): comparing
        numbers measured minutes apart would compare the machine's load."""
        if probe_s is None:
            probe_s = self.probe(argv_a, argv_b)
        warmup, runs = self.runs_for(cls, None, probe_s)
        log(f"{backend} {key}: {label_b} against {label_a}, {warmup} warmup + {runs} runs each")
        a, b = self.hyperfine(f"{backend}-{key}", [argv_a, argv_b], warmup, runs,
                              rounds=self.rounds_for(cls, runs))
        rec = {"backend": backend, "scale": "-", "key": key, "a": label_a, "b": label_b,
               "a_median": a["median"], "b_median": b["median"], "ratio": b["median"] / a["median"],
               "runs": runs}
        self.comparisons.append(rec)
        print(f"   {label_b} {fmt_time(rec['b_median'])}  {label_a} {fmt_time(rec['a_median'])}  "
              f"ratio {rec['ratio']:.2f}", flush=True)
        return rec

    def comparison(self, backend, key):
        return next((c for c in self.comparisons if c["backend"] == backend and c["key"] == key), None)

    def probe(self, *argvs):
        """Wall time of the slowest of one run of each command."""
        worst = 0.0
        for argv in argvs:
            t = time.monotonic()
            run(argv, quiet=True)
            worst = max(worst, time.monotonic() - t)
        return worst

    def hyperfine(self, name, commands, warmup, runs, prepare=None, ignore_failure=False, rounds=1):
        """Times `commands` (list of argv) with hyperfine, in `rounds` rounds
        that alternate the commands' order, so that a change of load on this
        shared machine (another build, a slow fsync) hits both sides alike
        instead of one. Returns per command: median, stddev, times and exit
        codes over all rounds."""
        rounds = max(1, min(rounds, runs))
        per_round = -(-runs // rounds)
        times = [[] for _ in commands]
        codes = [[] for _ in commands]
        for r in range(rounds):
            order = list(range(len(commands)))
            if r % 2:
                order.reverse()
            res = self._hyperfine(f"{name}-r{r}" if rounds > 1 else name, [commands[i] for i in order],
                                  warmup if r == 0 else min(warmup, 2), per_round,
                                  [prepare[i] for i in order] if prepare else None, ignore_failure)
            for j, i in enumerate(order):
                times[i] += res[j]["times"]
                codes[i] += res[j].get("exit_codes") or []
        return [{"median": statistics.median(t), "stddev": statistics.pstdev(t), "times": t,
                 "exit_codes": c, "runs": len(t)} for t, c in zip(times, codes)]

    def _hyperfine(self, name, commands, warmup, runs, prepare=None, ignore_failure=False):
        export = os.path.join(WORK, "runs", f"{name}.json")
        cmd = ["hyperfine", "-N", "--style", "basic", "--warmup", str(warmup), "--runs", str(runs),
               "--export-json", export]
        if ignore_failure:
            cmd.append("-i")
        if prepare:
            for p in prepare:
                cmd += ["--prepare", shlex.join(p)]
        cmd += [shlex.join(c) for c in commands]
        p = run(cmd, check=False, capture=True)
        if p.returncode != 0:
            raise CommandFailed(f"hyperfine {name} failed:\n{p.stderr.strip()[-3000:]}")
        with open(export) as f:
            return json.load(f)["results"]

    def peak_kib(self, argv, prepare=None):
        """Peak resident memory of one run of argv, in KiB (GNU time %M)."""
        if prepare:
            run(prepare, quiet=True)
        out = os.path.join(WORK, "runs", "peak.txt")
        p = run(["/usr/bin/time", "-o", out, "-f", "%M", *argv], check=False, quiet=True)
        if p.returncode != 0:
            raise CommandFailed(f"{shlex.join(argv)} exited {p.returncode}: {(p.stderr or '').strip()[-500:]}")
        with open(out) as f:
            return int(f.read().strip().splitlines()[-1])

    def pair(self, backend, scale, key, milly_argv, base_argv, cls, prepare=None, base_prepare=None,
             peak_inside=False, runs=None, probe_s=None, **extra):
        """Times milly against its baseline; records medians, ratio, peaks."""
        if runs is None:
            adaptive = "budget" in RUNS[cls][self.mode] if isinstance(RUNS[cls][self.mode], dict) else False
            if adaptive:
                if probe_s is None:
                    probe_s = self.probe(milly_argv, base_argv)
                runs = self.runs_for(cls, scale, probe_s)
            else:
                runs = self.runs_for(cls, scale)
        warmup, runs = runs
        name = f"{backend.name}-{scale}-{key}"
        log(f"{backend.name} {scale} {key}: {warmup} warmup + {runs} runs each")
        if peak_inside:
            # Long commands: GNU time inside hyperfine costs nothing visible
            # and spares an extra run.
            peaks = [os.path.join(WORK, "runs", f"{name}-{side}.peak") for side in ("milly", "base")]
            for path in peaks:
                if os.path.exists(path):
                    os.remove(path)
            wrap = lambda argv, path: ["/usr/bin/time", "-a", "-o", path, "-f", "%M", *argv]  # noqa: E731
            commands = [wrap(milly_argv, peaks[0]), wrap(base_argv, peaks[1])]
        else:
            commands = [milly_argv, base_argv]
        rounds = self.rounds_for(cls, runs)
        if prepare or base_prepare:
            # hyperfine takes one --prepare per command, in order.
            results = self.hyperfine(name, commands, warmup, runs, rounds=rounds,
                                     prepare=[prepare or ["true"], base_prepare or prepare or ["true"]])
        else:
            results = self.hyperfine(name, commands, warmup, runs, rounds=rounds)
        if peak_inside:
            peak = []
            for path in peaks:
                with open(path) as f:
                    peak.append(max(int(line) for line in f.read().split() if line.isdigit()))
        else:
            peak = [self.peak_kib(milly_argv, prepare), self.peak_kib(base_argv, base_prepare or prepare)]
        m, b = results[0], results[1]
        rec = {
            "backend": backend.name, "scale": scale, "key": key, "runs": runs,
            "milly_median": m["median"], "base_median": b["median"],
            "milly_stddev": m["stddev"], "base_stddev": b["stddev"],
            "ratio": m["median"] / b["median"],
            "milly_peak_kib": peak[0], "base_peak_kib": peak[1],
            "milly_cmd": shlex.join(milly_argv), "base_cmd": shlex.join(base_argv),
            "milly_argv": milly_argv, "class": cls,
        }
        rec.update(extra)
        self.results.append(rec)
        print(f"   milly {fmt_time(rec['milly_median'])}  baseline {fmt_time(rec['base_median'])}  "
              f"ratio {rec['ratio']:.2f}  peak {rec['milly_peak_kib'] / 1024:.1f} / "
              f"{rec['base_peak_kib'] / 1024:.1f} MiB", flush=True)
        return rec

    def get(self, backend, scale, key):
        for r in self.results:
            if r["backend"] == backend and r["scale"] == scale and r["key"] == key:
                return r
        return None


def fmt_time(seconds):
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds:.2f} s"


# --------------------------------------------------------------------------
# Workloads


def same_rows(milly_rows, base_rows, fields):
    """Compares milly's JSON rows with the baseline's on the given
    (milly_field, base_field, convert) triples; returns a problem or None."""
    if len(milly_rows) != len(base_rows):
        return f"milly returned {len(milly_rows)} rows, the baseline {len(base_rows)}"
    for i, (m, b) in enumerate(zip(milly_rows, base_rows)):
        for mf, bf, conv in fields:
            mv, bv = conv(m.get(mf)), (None if b.get(bf) is None else conv(b.get(bf)))
            if mv != bv:
                return f"row {i + 1}: milly {mf}={m.get(mf)!r}, baseline {bf}={b.get(bf)!r}"
    return None


def money_cents(v):
    if v is None:
        return None
    s = str(v)
    whole, _, frac = s.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2]) if "." in s else int(whole) * 100


def as_int(v):
    return None if v is None else int(v)


def as_str(v):
    return None if v is None else str(v)


LIST_FIELDS = [("id", "id", as_str), ("stock_count", "stock_count", as_int),
               ("discount_id", "discount_id", as_str), ("final_price", "final_cents", None)]
SHOW_FIELDS = LIST_FIELDS + [("coupon_id", "coupon_id", as_str)]


def compare_outputs(suite, backend, key, milly_argv, base_argv, fields):
    m = run(milly_argv, capture=True)
    b = run(base_argv, capture=True)
    milly_rows = json.loads(m.stdout)
    if isinstance(milly_rows, dict):
        milly_rows = [milly_rows]
    if backend.name == "sqlite":
        base_rows = json.loads(b.stdout) if b.stdout.strip() else []
    else:
        base_rows = parse_tsv(b.stdout)
    # final price: milly prints money, the baseline cents.
    fixed = []
    for mf, bf, conv in fields:
        if conv is None:
            fixed.append(("_final_cents", bf, as_int))
            for r in milly_rows:
                r["_final_cents"] = money_cents(r.get(mf))
        else:
            fixed.append((mf, bf, conv))
    problem = same_rows(milly_rows, base_rows, fixed)
    if problem:
        suite.failures.append(f"{backend.name} {key}: milly and the baseline differ: {problem}")
        warn(f"{backend.name} {key}: results differ: {problem}")
    return len(milly_rows)


def count_lines(argv, skip=0):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE)
    n = 0
    for _ in p.stdout:
        n += 1
    if p.wait() != 0:
        raise CommandFailed(f"{shlex.join(argv)} exited {p.returncode}")
    return n - skip


def positions_to_ids(backend, target, meta):
    pos = meta["positions"]
    seqs = ",".join(str(v) for v in pos.values())
    rows = backend.query(target, f"SELECT seq, id FROM products WHERE seq IN ({seqs})")
    by_seq = {int(r["seq"]): r["id"] for r in rows}
    return {k: by_seq[v] for k, v in pos.items()}


def deep_page(n):
    """The page 30% into the catalog: page 10,000 of 1M products."""
    return max(2, (n * 3 // 10) // PAGE_SIZE)


def ledger_state(backend, target, product_id):
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


def run_backend_scale(suite, backend, scale):
    meta = fixture_dir(scale, backend.name == "mysql")
    n = meta["products"]
    try:
        target, build_s = fixture_db(backend, scale, meta)
    except CommandFailed as e:
        return str(e)
    if build_s is not None:
        suite.extra.setdefault(backend.name, {})[f"fixture_load_{scale}"] = build_s
    ids = positions_to_ids(backend, target, meta)
    now = suite.now
    sqldir = os.path.join(WORK, "sql", backend.name, scale)
    os.makedirs(sqldir, exist_ok=True)
    gen = sql.Sql(backend.name, now)

    def sqlfile(name, text):
        path = os.path.join(sqldir, f"{name}.sql")
        with open(path, "w") as f:
            f.write(text)
        return path

    mode = "json" if backend.name == "sqlite" else "batch"
    m = lambda *a: backend.milly_cmd(target, *a)  # noqa: E731
    base = lambda name, text, mode=mode: backend.client_cmd(target, sqlfile(name, text), mode)  # noqa: E731

    # product show ID --user U
    argv_m = m("-o", "json", "product", "show", ids["show"], "--user", meta["user"])
    argv_b = base("show", gen.show(ids["show"], meta["user"]))
    compare_outputs(suite, backend, f"{scale} show", argv_m, argv_b, SHOW_FIELDS)
    suite.pair(backend, scale, "show", argv_m, argv_b, "fast")

    # product list, page 1 and the page 30% in
    for key, page in (("list_page1", 1), ("list_deep", deep_page(n))):
        argv_m = m("-o", "json", "product", "list", "--page", str(page), "--page-size", str(PAGE_SIZE))
        argv_b = base(key, gen.list_page((page - 1) * PAGE_SIZE, PAGE_SIZE))
        compare_outputs(suite, backend, f"{scale} {key}", argv_m, argv_b, LIST_FIELDS)
        suite.pair(backend, scale, key, argv_m, argv_b, "fast", page=page)

    # product list --name TERM
    for kind in ("rare", "common", "pair"):
        term = meta["terms"][kind]["term"]
        argv_m = m("-o", "json", "product", "list", "--name", term)
        argv_b = base(f"name_{kind}", gen.list_name(term, PAGE_SIZE))
        rows = compare_outputs(suite, backend, f"{scale} name {kind}", argv_m, argv_b, LIST_FIELDS)
        suite.pair(backend, scale, f"name_{kind}", argv_m, argv_b, "fast", term=term,
                   hits=meta["terms"][kind]["hits"], rows=rows)

    # stock adjust ID --change +1 (durable commit both sides)
    argv_m = m("-o", "json", "stock", "adjust", ids["adjust"], "--change", "+1")
    argv_b = base("adjust", gen.adjust(ids["adjust"]))
    before = ledger_state(backend, target, ids["adjust"])
    suite.pair(backend, scale, "adjust", argv_m, argv_b, "write")
    after = ledger_state(backend, target, ids["adjust"])
    if after["broken"] or after["hi"] != after["n"] or after["total"] - before["total"] != after["n"] - before["n"]:
        suite.failures.append(f"{backend.name} {scale} adjust: the ledger is inconsistent: {before} -> {after}")

    # product list --all, streamed
    argv_m = m("-o", "ndjson", "product", "list", "--all")
    argv_b = base("all", gen.list_all(), "json" if backend.name == "sqlite" else "quick")
    t = time.monotonic()
    got_m = count_lines(argv_m)
    got_b = count_lines(argv_b, skip=0 if backend.name == "sqlite" else 1)
    probe_s = (time.monotonic() - t) / 2
    if got_m != n or got_b != n:
        suite.failures.append(f"{backend.name} {scale} list --all: milly printed {got_m} rows, "
                              f"the baseline {got_b}, expected {n}")
    suite.pair(backend, scale, "list_all", argv_m, argv_b, "stream", peak_inside=True, probe_s=probe_s, rows=n)

    # bulk import into a fresh catalog: milly import vs the client's bulk load
    scratch_m, scratch_b = import_targets(backend, scale)
    argv_m = backend.milly_cmd(scratch_m, "--json", "import", "products",
                               os.path.join(meta["dir"], "products.ndjson"))
    argv_b = backend.client_cmd(scratch_b, sqlfile("import", gen.bulk_load(
        os.path.join(meta["dir"], backend.name), migrations(backend.name))))
    runs = suite.runs_for("import", scale)
    if backend.name == "mysql" and suite.mode == "full":
        runs = (0, MYSQL_IMPORT_RUNS[scale])
    rec = suite.pair(backend, scale, "import", argv_m, argv_b, "import",
                     prepare=backend.fresh_cmd(scratch_m), base_prepare=backend.fresh_cmd(scratch_b),
                     peak_inside=True, runs=runs, rows=n, events=meta["counts"]["stock_events"],
                     discounts=meta["counts"]["discounts"])
    rec["products_per_s"] = n / rec["milly_median"]
    rec["base_products_per_s"] = n / rec["base_median"]
    check_import(suite, backend, scratch_m, scratch_b, meta)
    backend.drop(scratch_b)
    backend.drop(scratch_m)
    return None


def import_targets(backend, scale):
    if backend.name == "sqlite":
        d = os.path.join(WORK, "sqlite")
        return os.path.join(d, f"import-milly-{scale}.db"), os.path.join(d, f"import-base-{scale}.db")
    return f"milly_bench_import_{scale}", f"milly_bench_load_{scale}"


def check_import(suite, backend, scratch_m, scratch_b, meta):
    for who, target in (("milly", scratch_m), ("baseline", scratch_b)):
        rows = backend.query(target, "SELECT (SELECT COUNT(*) FROM products) AS p, "
                                     "(SELECT COUNT(*) FROM stock_events) AS e, "
                                     "(SELECT COUNT(*) FROM discounts) AS d")
        got = {k: int(v) for k, v in rows[0].items()}
        want = {"p": meta["counts"]["products"], "e": meta["counts"]["stock_events"],
                "d": meta["counts"]["discounts"]}
        if got != want:
            suite.failures.append(f"{backend.name} import: {who} loaded {got}, expected {want}")
    if backend.name == "sqlite":
        hits = backend.query(scratch_b, "SELECT COUNT(*) AS n FROM products_name_search "
                                        f"WHERE products_name_search MATCH '\"{meta['terms']['rare']['term']}\"'")
        if int(hits[0]["n"]) != meta["terms"]["rare"]["hits"]:
            suite.failures.append("sqlite import: the baseline's name index is incomplete")


def migrations(backend_name):
    d = os.path.join(ROOT, "migrations", backend_name)
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".sql")]


def run_version(suite):
    warmup, runs = (20, 300) if suite.mode == "full" else (3, 20)
    log(f"milly --version vs true: {warmup} warmup + {runs} runs each")
    results = suite.hyperfine("version", [[suite.milly, "--version"], ["true"]], warmup, runs,
                              rounds=suite.rounds_for("fast", runs))
    m, b = results
    rec = {"backend": "any", "scale": "-", "key": "version", "runs": runs, "class": "fast",
           "milly_median": m["median"], "base_median": b["median"],
           "milly_stddev": m["stddev"], "base_stddev": b["stddev"],
           "ratio": m["median"] / b["median"],
           "milly_peak_kib": suite.peak_kib([suite.milly, "--version"]),
           "base_peak_kib": suite.peak_kib(["true"]),
           "milly_cmd": f"{suite.milly} --version", "base_cmd": "true"}
    suite.results.append(rec)
    print(f"   milly {fmt_time(rec['milly_median'])}  true {fmt_time(rec['base_median'])}  "
          f"ratio {rec['ratio']:.2f}", flush=True)


def run_concurrent(suite, backend, scale):
    """8 processes x 100 adjustments of one product against the same 800 in
    one process after another; then the ledger must hold every one."""
    meta = fixture_dir(scale, backend.name == "mysql")
    target, _ = fixture_db(backend, scale, meta)
    product = positions_to_ids(backend, target, meta)["concurrent"]
    procs, each = CONCURRENT_PROCS, CONCURRENT_EACH
    if suite.mode == "smoke":
        each = 10
    warmup, runs = RUNS["concurrent"][suite.mode]
    script = os.path.join(ROOT, "bench", "concurrent.sh")
    url = backend.url(target)
    attempts_log = os.path.join(WORK, "runs", f"{backend.name}-{scale}-concurrent-attempts.log")
    for worker in range(procs):
        if os.path.exists(f"{attempts_log}.{worker}"):
            os.remove(f"{attempts_log}.{worker}")
    conc = ["bash", script, str(procs), str(each), suite.milly, url, product, attempts_log]
    seq = ["bash", script, "1", str(procs * each), suite.milly, url, product]
    log(f"{backend.name} {scale} concurrent: {procs} x {each} adjustments vs {procs * each} "
        f"sequential, {runs} runs each")
    before = ledger_state(backend, target, product)
    name = f"{backend.name}-{scale}-concurrent"
    results = suite.hyperfine(name, [conc, seq], warmup, runs, ignore_failure=True,
                              rounds=suite.rounds_for("concurrent", runs))
    after = ledger_state(backend, target, product)
    expected = (warmup + runs) * 2 * procs * each
    failed_runs = sum(1 for r in results for c in r.get("exit_codes", []) if c)
    added = after["n"] - before["n"]
    ok = (added == expected and after["broken"] == 0 and after["hi"] == after["n"]
          and after["lo"] == 1 and after["total"] - before["total"] == expected and failed_runs == 0)
    attempts = []
    for worker in range(procs):
        with open(f"{attempts_log}.{worker}") as f:
            for line in f:
                found = re.fullmatch(r"milly: stock adjusted in (\d+) attempt\(s\)\n?", line)
                if found:
                    attempts.append(int(found.group(1)))
    m, b = results
    rec = {"backend": backend.name, "scale": scale, "key": "concurrent", "runs": runs,
           "first_attempt": sum(1 for a in attempts if a == 1) / max(1, len(attempts)),
           "max_attempts": max(attempts, default=0),
           "mean_attempts": sum(attempts) / max(1, len(attempts)),
           "milly_median": m["median"], "base_median": b["median"],
           "milly_stddev": m["stddev"], "base_stddev": b["stddev"],
           "ratio": m["median"] / b["median"], "milly_peak_kib": None, "base_peak_kib": None,
           "milly_cmd": shlex.join(conc), "base_cmd": shlex.join(seq),
           "adjustments": procs * each, "procs": procs, "expected": expected, "added": added,
           "failed_runs": failed_runs, "ledger_ok": ok}
    suite.results.append(rec)
    if failed_runs:
        # concurrent.sh prints how many adjustments failed in each run.
        suite.failures.append(f"{backend.name} concurrent: {failed_runs} run(s) had failed adjustments")
    if not ok:
        suite.failures.append(f"{backend.name} concurrent: ledger check failed: expected {expected} new "
                              f"events, found {added}; {before} -> {after}")
    print(f"   concurrent {fmt_time(rec['milly_median'])}  sequential {fmt_time(rec['base_median'])}  "
          f"ratio {rec['ratio']:.2f}  ledger {'ok' if ok else 'BROKEN'} ({added}/{expected}); "
          f"{rec['first_attempt']:.0%} first-attempt, mean {rec['mean_attempts']:.2f}, "
          f"max {rec['max_attempts']} attempts", flush=True)


def run_comparisons(suite, backend, scales):
    """The targets that compare milly with itself, each in one interleaved
    run: the deep page against page 1, and the largest catalog against the
    smallest for show, list and adjust."""
    name, largest, smallest = backend.name, scales[-1], scales[0]
    p1, deep = suite.get(name, largest, "list_page1"), suite.get(name, largest, "list_deep")
    if p1 and deep:
        suite.same_run(name, "deep_vs_page1", "page 1", p1["milly_argv"], f"page {deep['page']:,}",
                       deep["milly_argv"])
    if largest == smallest:
        return
    ref = "100k" if "100k" in scales and largest != "100k" else smallest
    small, big = suite.get(name, ref, "list_all"), suite.get(name, largest, "list_all")
    if small and big:
        suite.same_run(name, "linear_all", ref, small["milly_argv"], largest, big["milly_argv"], "stream",
                       probe_s=big["milly_median"])
    for key in ("show", "list_page1", "adjust"):
        small, big = suite.get(name, smallest, key), suite.get(name, largest, key)
        if small and big:
            suite.same_run(name, f"growth_{key}", smallest, small["milly_argv"], largest, big["milly_argv"],
                           small["class"])


# --------------------------------------------------------------------------
# Targets and report


def evaluate(suite, backend_name, scales):
    """Every target of issue 5 for one backend, as rows of (target, measured,
    verdict). Missing measurements (scale not run) are reported as such."""
    largest = scales[-1]
    smallest = scales[0]
    rows = []
    g = lambda scale, key: suite.get(backend_name, scale, key)  # noqa: E731
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731

    if backend_name == "sqlite":
        v = suite.get("any", "-", "version")
        if v:
            rows.append(("`milly --version` ≤ 1.5× a bare `true`",
                         f"{fmt_time(v['milly_median'])} vs {fmt_time(v['base_median'])}: {v['ratio']:.2f}×",
                         verdict(v["ratio"] <= 1.5)))
    s = g(largest, "show")
    if s:
        rows.append((f"`product show ID --user U` ({largest}) ≤ 1.3× baseline",
                     f"{s['ratio']:.2f}×", verdict(s["ratio"] <= 1.3)))
    p1, deep = g(largest, "list_page1"), g(largest, "list_deep")
    if p1:
        rows.append((f"`product list` page 1 ({largest}) ≤ 1.3× baseline", f"{p1['ratio']:.2f}×",
                     verdict(p1["ratio"] <= 1.3)))
    if p1 and deep:
        c = suite.comparison(backend_name, "deep_vs_page1")
        a, b = (c["a_median"], c["b_median"]) if c else (p1["milly_median"], deep["milly_median"])
        r = b / a
        rows.append((f"page {deep['page']:,} within 2× of page 1 ({largest}, same run)",
                     f"{fmt_time(b)} vs {fmt_time(a)}: {r:.2f}×", verdict(r <= 2.0)))
    for kind in ("rare", "common", "pair"):
        r = g(largest, f"name_{kind}")
        if r:
            extra = " (extra: a rare phrase of common words)" if kind == "pair" else ""
            rows.append((f"`--name {r['term']}` ({r['hits']:,} hits, {largest}) ≤ 10 ms{extra}",
                         f"{fmt_time(r['milly_median'])} (baseline {fmt_time(r['base_median'])}, "
                         f"{r['ratio']:.2f}×)", verdict(r["milly_median"] <= 0.010)))
    a = g(largest, "adjust")
    if a:
        rows.append((f"`stock adjust` sequential ({largest}) ≤ 1.3× baseline", f"{a['ratio']:.2f}×",
                     verdict(a["ratio"] <= 1.3)))
    c = next((r for r in suite.results if r["backend"] == backend_name and r["key"] == "concurrent"), None)
    if c:
        rows.append((f"{c['procs']} processes × {c['adjustments'] // c['procs']} `stock adjust`: all succeed, "
                     "no lost update",
                     f"{c['added']:,} of {c['expected']:,} events, {c['failed_runs']} failed runs, ledger "
                     f"{'contiguous' if c['ledger_ok'] else 'BROKEN'}; {c['first_attempt']:.0%} on the "
                     f"first attempt, mean {c['mean_attempts']:.2f}, max {c['max_attempts']}",
                     verdict(c["ledger_ok"])))
        rows.append((f"… wall ≤ 1.5× the same {c['adjustments']} sequential ({c['scale']})",
                     f"{fmt_time(c['milly_median'])} vs {fmt_time(c['base_median'])}: {c['ratio']:.2f}×",
                     verdict(c["ratio"] <= 1.5)))
    i = g(largest, "import")
    if i:
        rows.append((f"bulk import ({largest}) ≥ 100,000 products/s",
                     f"{i['products_per_s']:,.0f}/s ({fmt_time(i['milly_median'])})",
                     verdict(i["products_per_s"] >= 100_000)))
        rows.append((f"bulk import ({largest}) ≤ 1.5× the client's bulk load", f"{i['ratio']:.2f}×",
                     verdict(i["ratio"] <= 1.5)))
    al = g(largest, "list_all")
    if al:
        rows.append((f"`product list --all` ({largest}) peak memory ≤ 30 MB",
                     f"{al['milly_peak_kib'] / 1024:.1f} MiB (baseline {al['base_peak_kib'] / 1024:.1f} MiB)",
                     verdict(al["milly_peak_kib"] * 1024 <= 30_000_000)))
        per_row = {sc: g(sc, "list_all")["milly_median"] / SCALES[sc] for sc in scales if g(sc, "list_all")}
        c = suite.comparison(backend_name, "linear_all")
        if c:
            ref = c["a"]
            r = (c["b_median"] / SCALES[c["b"]]) / (c["a_median"] / SCALES[ref])
            shown = (f"{ref}: {c['a_median'] / SCALES[ref] * 1e6:.2f} µs/row, "
                     f"{c['b']}: {c['b_median'] / SCALES[c['b']] * 1e6:.2f} µs/row")
            rows.append((f"`--all` time linear in rows ({largest} per row ≤ 1.2× {ref} per row, same run)",
                         f"{shown}: {r:.2f}×", verdict(r <= 1.2)))
        elif len(per_row) >= 2:
            ref = "100k" if "100k" in per_row and largest != "100k" else smallest
            r = per_row[largest] / per_row[ref]
            shown = ", ".join(f"{sc}: {v * 1e6:.2f} µs/row" for sc, v in per_row.items())
            rows.append((f"`--all` time linear in rows ({largest} per row ≤ 1.2× {ref} per row)",
                         f"{shown}: {r:.2f}×", verdict(r <= 1.2)))
    if largest != smallest:
        for key, label in (("show", "show"), ("list_page1", "list page 1"), ("adjust", "adjust")):
            c = suite.comparison(backend_name, f"growth_{key}")
            big, small = g(largest, key), g(smallest, key)
            if c:
                a, b = c["a_median"], c["b_median"]
            elif big and small:
                a, b = small["milly_median"], big["milly_median"]
            else:
                continue
            r = b / a
            rows.append((f"growth: {label} at {largest} ≤ 1.2× at {smallest} (same run)",
                         f"{fmt_time(b)} vs {fmt_time(a)}: {r:.2f}×", verdict(r <= 1.2)))
    return rows


LABELS = {
    "version": "`milly --version` (baseline: `true`)",
    "show": "`product show ID --user U`",
    "list_page1": "`product list` page 1",
    "list_deep": "`product list` deep page",
    "name_rare": "`product list --name` rare",
    "name_common": "`product list --name` common",
    "name_pair": "`product list --name` rare phrase",
    "adjust": "`stock adjust ID --change +1`",
    "list_all": "`product list --all -o ndjson`",
    "import": "`import products` (fresh catalog)",
    "concurrent": "8×100 `stock adjust` (baseline: 800 sequential)",
}


def label(r):
    text = LABELS[r["key"]]
    if r["key"] == "list_deep":
        text = f"`product list` page {r['page']:,}"
    if r["key"].startswith("name_"):
        text += f" (`{r['term']}`, {r['hits']:,} hits)"
    return text


def results_table(suite, backend_name):
    rows = [r for r in suite.results if r["backend"] == backend_name or
            (backend_name == "sqlite" and r["backend"] == "any")]
    lines = ["| workload | catalog | milly median | baseline median | milly / baseline | "
             "peak RSS milly / baseline |", "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        peak = "—"
        if r["milly_peak_kib"] is not None:
            peak = f"{r['milly_peak_kib'] / 1024:.1f} / {r['base_peak_kib'] / 1024:.1f} MiB"
        lines.append(f"| {label(r)} | {r['scale']} | {fmt_time(r['milly_median'])} | "
                     f"{fmt_time(r['base_median'])} | {r['ratio']:.2f}× | {peak} |")
    return "\n".join(lines)


def targets_table(rows):
    lines = ["| target | measured | |", "|---|---|---|"]
    for t, m, v in rows:
        lines.append(f"| {t} | {m} | **{v}** |" if v == "MISS" else f"| {t} | {m} | {v} |")
    return "\n".join(lines)


def render_section(suite, backend_name, scales, skipped=None):
    info = suite.info
    out = [f"_Run {suite.now.strftime('%Y-%m-%d %H:%M')} UTC on milly {suite.info['commit']}, "
           f"catalogs {', '.join(scales)}; {info['cpu']}, {info['memory']}; "
           f"{info['hyperfine']}, sqlite3 {info['sqlite3']} (milly bundles SQLite via "
           f"{info['milly_sqlite']}); load average at start {info['load']:.2f}._", ""]
    if skipped:
        out += [f"**Not measured:** {skipped}", ""]
        return "\n".join(out)
    out += ["Targets:", "", targets_table(evaluate(suite, backend_name, scales)), "",
            "All workloads (medians; peak RSS of the client process):", "",
            results_table(suite, backend_name)]
    same = [c for c in suite.comparisons if c["backend"] == backend_name]
    if same:
        out += ["", "milly against itself, in one interleaved run each:", "",
                "| comparison | first | second | second / first |", "|---|---:|---:|---:|"]
        names = {"deep_vs_page1": "`product list` deep page vs page 1",
                 "linear_all": "`product list --all`", "growth_show": "`product show`",
                 "growth_list_page1": "`product list` page 1", "growth_adjust": "`stock adjust`"}
        for c in same:
            out.append(f"| {names.get(c['key'], c['key'])}: {c['b']} vs {c['a']} | "
                       f"{fmt_time(c['a_median'])} | {fmt_time(c['b_median'])} | {c['ratio']:.2f}× |")
    notes = suite.extra.get(backend_name, {})
    loads = [f"{k.split('_')[-1]} in {v:.1f} s" for k, v in notes.items() if k.startswith("fixture_load_")]
    if loads:
        out += ["", f"Fixture catalogs loaded with `milly import` (products, then coupons): {', '.join(loads)}."]
    return "\n".join(out)


def write_benchmarks_md(sections):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    for name, body in sections.items():
        begin, end = f"<!-- results:{name}:begin -->", f"<!-- results:{name}:end -->"
        block = f"{begin}\n{body}\n{end}"
        if begin in text and end in text:
            text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
        else:
            text += f"\n{block}\n"
    with open(path, "w") as f:
        f.write(text)
    log(f"wrote the results into {os.path.relpath(path, ROOT)}")


# --------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="all",
                    help="10k, 100k, 1m, a comma-separated list, or all (default)")
    ap.add_argument("--backend", choices=["sqlite", "mysql", "both"], default="both")
    ap.add_argument("--smoke", action="store_true",
                    help="10k only, a few runs: checks that the suite works (< 2 min)")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    ap.add_argument("--no-build", action="store_true", help="benchmark the release binary as it is, without building")
    args = ap.parse_args()
    if args.smoke:
        scales = ["10k"]
    elif args.scale == "all":
        scales = list(SCALES)
    else:
        scales = [s.strip().lower() for s in args.scale.split(",")]
        bad = [s for s in scales if s not in SCALES]
        if bad:
            ap.error(f"unknown scale {', '.join(bad)}; use 10k, 100k, 1m or all")
        scales = sorted(set(scales), key=list(SCALES).index)
    backends = ["sqlite", "mysql"] if args.backend == "both" else [args.backend]

    started = time.monotonic()
    try:
        ensure_tools("mysql" in backends)
        milly = build_milly(build=not args.no_build)
    except (CommandFailed, OSError) as e:
        warn(f"setup failed: {e}")
        return 1
    info = machine_info()
    info["commit"] = git_describe()
    if info["load"] > 0.7:
        warn(f"load average is {info['load']:.2f}: something else is running, timings will be noisy")
    suite = Suite(args, milly, info)
    skipped = {}

    try:
        if "sqlite" in backends:
            run_version(suite)
        for name in backends:
            backend = SqliteBackend(milly) if name == "sqlite" else MysqlBackend(milly)
            ok, why = backend.available()
            if not ok:
                warn(f"skipping {name}: {why}")
                skipped[name] = why
                continue
            for scale in scales:
                problem = run_backend_scale(suite, backend, scale)
                if problem:
                    why = f"the {scale} catalog could not be loaded: {problem}"
                    warn(f"skipping {name}: {why}")
                    skipped[name] = why
                    if name == "sqlite":
                        suite.failures.append(f"sqlite: {problem}")
                    break
            if name not in skipped:
                run_concurrent(suite, backend, scales[-1])
                run_comparisons(suite, backend, scales)
    except CommandFailed as e:
        suite.failures.append(str(e))
        warn(str(e))

    sections = {}
    for name in backends:
        body = render_section(suite, name, scales, skipped.get(name))
        sections[name] = body
        print(f"\n## {'SQLite' if name == 'sqlite' else 'MySQL (MariaDB)'}\n\n{body}\n")
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump({"info": info, "scales": scales, "results": suite.results,
                   "comparisons": suite.comparisons, "failures": suite.failures,
                   "skipped": skipped}, f, indent=2, default=str)
    complete = not args.smoke and not args.no_write and scales == list(SCALES)
    if complete and not suite.failures:
        write_benchmarks_md(sections)
    elif not args.no_write and not args.smoke:
        log("BENCHMARKS.md left as it was: it records full runs (all scales) without failures")
    took = time.monotonic() - started
    log(f"finished in {int(took // 60)} min {took % 60:.0f} s")
    if suite.failures:
        warn("failures:")
        for f in suite.failures:
            print(f"   - {f}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
