"""The machinery every workload uses: running processes, checking the tools,
building milly and the floor program, timing commands with hyperfine, peak
memory with GNU time, and comparing the rows two programs print.

Nothing here knows what a workload is (bench/workloads.py) or what a target
is (bench/targets.toml, bench/report.py)."""

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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "target", "bench")

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
# MariaDB's imports are slow (45 s a side at 1M): fewer runs.
MYSQL_IMPORT_RUNS = {"10k": 5, "100k": 3, "1m": 1}


def log(msg):
    print(f"== {msg}", flush=True)


def warn(msg):
    print(f"!! {msg}", flush=True)


class CommandFailed(Exception):
    pass


def run(cmd, check=True, capture=False, env=None, stdin=None, quiet=False, input=None):
    """Runs argv; returns CompletedProcess. Raises CommandFailed on failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE if capture or quiet else None,
                       stderr=subprocess.PIPE if capture or quiet else None,
                       text=True, env=env, stdin=stdin, input=input)
    if check and p.returncode != 0:
        detail = (p.stderr or "").strip()[-2000:] if (capture or quiet) else ""
        raise CommandFailed(f"{shlex.join(cmd)} exited {p.returncode}\n{detail}")
    return p


def fmt_time(seconds):
    if seconds is None:
        return "—"
    if seconds < 1:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds:.2f} s"


# --------------------------------------------------------------------------
# Tools and builds


def missing_tools(need_mysql):
    """What the suite runs and this machine lacks. The suite installs
    nothing: CI (.ci/run) installs hyperfine and GNU time before it."""
    missing = []
    if not shutil.which("hyperfine"):
        missing.append("hyperfine")
    if not os.access("/usr/bin/time", os.X_OK):
        missing.append("GNU time (/usr/bin/time, Debian package `time`)")
    if not shutil.which("sqlite3"):
        missing.append("sqlite3")
    if not shutil.which("script"):
        missing.append("script (util-linux), for the progress-bar measurement")
    if need_mysql and not shutil.which("mariadb"):
        warn("the mariadb client is not installed: the MySQL part will be skipped")
    return missing


def static_build_works_here():
    """`cargo build-static` targets x86-64 Linux with glibc only."""
    return sys.platform.startswith("linux") and platform.machine() == "x86_64" \
        and platform.libc_ver()[0] == "glibc"


BINARIES = ("milly", "milly-floor")


def build(build=True):
    """Builds milly and the floor program in one cargo invocation with the
    same recipe (`cargo build-static`, the opt-in static, non-PIE release
    build of .cargo/config.toml; `cargo build --release` elsewhere than
    x86-64 Linux), unless told not to, and copies both binaries to
    target/bench/bin so that a build running meanwhile in the same tree
    cannot swap them mid-run. Returns {name: path}."""
    if static_build_works_here():
        cmd = ["cargo", "build-static", "-p", "milly", "-p", "milly-floor", "--bin", "milly-floor"]
    else:
        cmd = ["cargo", "build", "--release", "-p", "milly", "-p", "milly-floor",
               "--bin", "milly", "--bin", "milly-floor"]
    built = {}
    if not build:
        for name in BINARIES:
            found = [os.path.join(ROOT, "target", d, "release", name) for d in os.listdir(os.path.join(ROOT, "target"))]
            found = [f for f in found + [os.path.join(ROOT, "target", "release", name)] if os.path.isfile(f)]
            if not found:
                raise CommandFailed(f"no release build of {name} under target/: run without --no-build")
            built[name] = max(found, key=os.path.getmtime)
            log(f"benchmarking {os.path.relpath(built[name], ROOT)} as it is")
    else:
        log(shlex.join(cmd))
        p = subprocess.run(cmd + ["--message-format=json-render-diagnostics"], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise CommandFailed(f"{shlex.join(cmd)} exited {p.returncode}")
        for line in p.stdout.splitlines():
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            name = msg.get("target", {}).get("name")
            if msg.get("reason") == "compiler-artifact" and name in BINARIES and msg.get("executable"):
                built[name] = msg["executable"]
    missing = [name for name in BINARIES if name not in built]
    if missing:
        raise CommandFailed(f"cargo did not report the executable of {', '.join(missing)}")
    os.makedirs(os.path.join(WORK, "bin"), exist_ok=True)
    copies = {}
    for name, path in built.items():
        dest = os.path.join(WORK, "bin", name)
        shutil.copy2(path, dest + ".tmp")
        os.replace(dest + ".tmp", dest)
        copies[name] = dest
    return copies


def git_describe():
    def out(*cmd):
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        return p.stdout.strip() if p.returncode == 0 else ""
    head = out("git", "rev-parse", "--short", "HEAD")
    dirty = out("git", "status", "--porcelain", "--untracked-files=no", "--", "src", "Cargo.toml",
                "Cargo.lock", "migrations", "bench/floor")
    return head + (" + uncommitted changes" if dirty else "")


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
# Timing


class Suite:
    """One run of the benchmark: its mode, its binaries, and everything it
    measured (`results`: one record per workload, backend and scale;
    `comparisons`: milly against itself in one run)."""

    def __init__(self, args, binaries, info, now):
        self.args = args
        self.mode = "smoke" if args.smoke else "full"
        self.milly = binaries["milly"]
        self.floor = binaries["milly-floor"]
        self.info = info
        self.now = now
        self.failures = []
        self.results = []
        self.comparisons = []
        self.extra = {}  # backend -> notes (fixture build times, etc.)
        os.makedirs(os.path.join(WORK, "runs"), exist_ok=True)
        os.makedirs(os.path.join(WORK, "sql"), exist_ok=True)

    def fail(self, problem):
        self.failures.append(problem)
        warn(problem)

    def runs_for(self, cls, scale, probe_s=None):
        """(warmup, runs) for a workload class; adaptive classes need the
        seconds one run took."""
        spec = RUNS[cls][self.mode]
        if isinstance(spec, dict) and "budget" in spec:
            runs = int(spec["budget"] / max(probe_s, 1e-4))
            runs = max(spec["min"], min(spec["max"], runs))
            return max(1, min(10, runs // 10)), runs
        return spec[scale] if isinstance(spec, dict) else spec

    def adaptive(self, cls):
        spec = RUNS[cls][self.mode]
        return isinstance(spec, dict) and "budget" in spec

    def rounds_for(self, cls, runs):
        """Fast commands: 3 rounds of a third of the runs each; long ones
        alternate run by run."""
        if self.mode == "smoke":
            return 1
        return 3 if cls in ("fast", "write") else runs

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
        shared machine (another build, a slow fsync) hits every side alike
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

    def measure(self, backend, scale, key, sides, cls, prepare=None, peak_inside=False, runs=None,
                probe_s=None, **extra):
        """Times the sides of a workload against each other in one run:
        `sides` maps "milly", "floor" and/or "client" to an argv (milly
        first); `prepare` maps a side to the argv that resets its state
        before each run. Records medians and peak memory per side."""
        names = list(sides)
        argvs = [sides[n] for n in names]
        if runs is None:
            if self.adaptive(cls):
                if probe_s is None:
                    probe_s = self.probe(*argvs)
                runs = self.runs_for(cls, scale, probe_s)
            else:
                runs = self.runs_for(cls, scale)
        warmup, runs = runs
        name = f"{backend}-{scale}-{key}"
        log(f"{backend} {scale} {key}: {' / '.join(names)}, {warmup} warmup + {runs} runs each")
        if peak_inside:
            # Long commands: GNU time inside hyperfine costs nothing visible
            # and spares an extra run.
            peaks = {n: os.path.join(WORK, "runs", f"{name}-{n}.peak") for n in names}
            for path in peaks.values():
                if os.path.exists(path):
                    os.remove(path)
            commands = [["/usr/bin/time", "-a", "-o", peaks[n], "-f", "%M", *sides[n]] for n in names]
        else:
            commands = argvs
        prep = [(prepare or {}).get(n, ["true"]) for n in names] if prepare else None
        results = self.hyperfine(name, commands, warmup, runs, rounds=self.rounds_for(cls, runs), prepare=prep)
        if peak_inside:
            peak = {}
            for n, path in peaks.items():
                with open(path) as f:
                    peak[n] = max(int(line) for line in f.read().split() if line.isdigit())
        else:
            peak = {n: self.peak_kib(sides[n], (prepare or {}).get(n)) for n in names}
        rec = {
            "backend": backend, "scale": scale, "key": key, "runs": runs, "class": cls,
            "median": {n: r["median"] for n, r in zip(names, results)},
            "stddev": {n: r["stddev"] for n, r in zip(names, results)},
            "peak_kib": peak,
            "argv": sides,
        }
        rec.update(extra)
        self.results.append(rec)
        shown = "  ".join(f"{n} {fmt_time(rec['median'][n])}" for n in names)
        ratios = "  ".join(f"milly/{n} {rec['median']['milly'] / rec['median'][n]:.2f}" for n in names[1:])
        print(f"   {shown}  {ratios}  peak milly {peak['milly'] / 1024:.1f} MiB", flush=True)
        return rec

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

    def get(self, backend, scale, key):
        return next((r for r in self.results
                     if r["backend"] == backend and r["scale"] == scale and r["key"] == key), None)

    def comparison(self, backend, key):
        return next((c for c in self.comparisons if c["backend"] == backend and c["key"] == key), None)


# --------------------------------------------------------------------------
# Row comparison


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


# (milly's JSON field, the other side's column, conversion); milly prints
# the final price as money, the floor and the clients as cents.
LIST_FIELDS = [("id", "id", as_str), ("stock_count", "stock_count", as_int),
               ("discount_id", "discount_id", as_str), ("_final_cents", "final_cents", as_int)]
SHOW_FIELDS = LIST_FIELDS + [("coupon_id", "coupon_id", as_str)]


def same_rows(milly_rows, other_rows, fields):
    """Compares milly's JSON rows with another program's; returns a problem
    or None."""
    if len(milly_rows) != len(other_rows):
        return f"milly returned {len(milly_rows)} rows, the other side {len(other_rows)}"
    for i, (m, b) in enumerate(zip(milly_rows, other_rows)):
        for mf, bf, conv in fields:
            mv, bv = conv(m.get(mf)), (None if b.get(bf) is None else conv(b.get(bf)))
            if mv != bv:
                return f"row {i + 1}: milly {mf}={m.get(mf)!r}, other side {bf}={b.get(bf)!r}"
    return None


def milly_rows(argv):
    out = json.loads(run(argv, capture=True).stdout)
    rows = [out] if isinstance(out, dict) else out
    for r in rows:
        r["_final_cents"] = money_cents(r.get("final_price"))
    return rows


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


def count_lines(argv, skip=0):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE)
    n = 0
    for _ in p.stdout:
        n += 1
    if p.wait() != 0:
        raise CommandFailed(f"{shlex.join(argv)} exited {p.returncode}")
    return n - skip
