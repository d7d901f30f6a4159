#!/usr/bin/env python3
"""milly's benchmark suite: every command timed as a whole process against
the floor program (bench/floor: the same query, nothing else) and the raw
database client doing the same work, with hyperfine.

    python3 bench/run.py                      # everything (both backends, 10k/100k/1M)
    python3 bench/run.py --smoke              # 10k only, a few runs (< 3 min): checks rows, not timings
    python3 bench/run.py --scale 100k --backend sqlite

What it does, in order:
  1. checks that hyperfine, GNU time, sqlite3 and script are installed (it
     installs nothing: CI does), and builds milly and the floor program with
     `cargo build-static` in one cargo invocation (a plain release build
     elsewhere than x86-64 Linux); it benchmarks copies of both binaries;
  2. makes the fixtures (bench/fixtures.py, seeded) and loads them with
     `milly import` into a cached catalog per backend and scale
     (bench/catalogs.py);
  3. runs the workloads (bench/workloads.py) with hyperfine
     (bench/harness.py), after checking that milly, the floor and the client
     return the same rows;
  4. evaluates the targets of bench/targets.toml and prints the tables
     (bench/report.py); a full run (all scales, no failure) writes them into
     BENCHMARKS.md.

Exit status: 0 when every command ran (whatever the targets say), 1 when a
tool is missing, a command failed or two sides returned different rows, 2
for bad usage. Targets are checked here, never in `cargo test`.
"""

import argparse
import datetime
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalogs  # noqa: E402
import harness  # noqa: E402
import report  # noqa: E402
import workloads  # noqa: E402
from harness import CommandFailed, log, warn  # noqa: E402


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", default="all", help="10k, 100k, 1m, a comma-separated list, or all (default)")
    ap.add_argument("--backend", choices=["sqlite", "mysql", "both"], default="both")
    ap.add_argument("--smoke", action="store_true",
                    help="10k only, a few runs: checks that the suite works and the rows agree (< 3 min)")
    ap.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    ap.add_argument("--no-build", action="store_true", help="benchmark the release binaries as they are")
    args = ap.parse_args()
    if args.smoke:
        scales = ["10k"]
    elif args.scale == "all":
        scales = list(catalogs.SCALES)
    else:
        scales = [s.strip().lower() for s in args.scale.split(",")]
        bad = [s for s in scales if s not in catalogs.SCALES]
        if bad:
            ap.error(f"unknown scale {', '.join(bad)}; use 10k, 100k, 1m or all")
        scales = sorted(set(scales), key=list(catalogs.SCALES).index)
    backends = ["sqlite", "mysql"] if args.backend == "both" else [args.backend]
    return args, scales, backends


def run_backend(suite, name, scales):
    """Every workload of one backend; returns why it was skipped, or None."""
    backend = catalogs.backend_named(name, suite.milly, suite.floor)
    ok, why = backend.available()
    if not ok:
        return why
    for scale in scales:
        problem = workloads.run_backend_scale(suite, backend, scale)
        if problem:
            if name == "sqlite":
                suite.failures.append(f"sqlite: {problem}")
            return f"the {scale} catalog could not be loaded: {problem}"
    workloads.run_concurrent(suite, backend, scales[-1])
    workloads.run_contention_on(suite, backend, scales[-1])
    workloads.run_comparisons(suite, backend, scales)
    return None


def main():
    args, scales, backends = parse_args()
    started = time.monotonic()
    try:
        targets = report.load_targets()
    except (OSError, ValueError) as e:
        warn(f"bad targets: {e}")
        return 1
    missing = harness.missing_tools("mysql" in backends)
    if missing:
        warn(f"missing: {', '.join(missing)}. Install them first (Debian: apt-get install -y hyperfine time "
             "sqlite3 util-linux); the benchmark installs nothing.")
        return 1
    try:
        binaries = harness.build(build=not args.no_build)
    except (CommandFailed, OSError) as e:
        warn(f"setup failed: {e}")
        return 1
    info = harness.machine_info()
    info["commit"] = harness.git_describe()
    if info["load"] > 0.7:
        warn(f"load average is {info['load']:.2f}: something else is running, timings will be noisy")
    suite = harness.Suite(args, binaries, info, datetime.datetime.now(datetime.timezone.utc))
    suite.largest = scales[-1]
    skipped = {}
    try:
        if "sqlite" in backends:
            workloads.run_version(suite)
        for name in backends:
            why = run_backend(suite, name, scales)
            if why:
                warn(f"skipping {name}: {why}")
                skipped[name] = why
        urls = catalogs.galera_urls()
        if urls and "mysql" in backends:
            workloads.run_galera(suite, urls)
        elif "mysql" in backends:
            log("Galera: MILLY_TEST_GALERA_URLS is not set, skipped")
    except CommandFailed as e:
        suite.fail(str(e))

    sections = {}
    for name in backends:
        body = report.render_section(suite, name, scales, targets, skipped.get(name))
        sections[name] = body
        print(f"\n## {'SQLite' if name == 'sqlite' else 'MySQL (MariaDB)'}\n\n{body}\n")
    with open(os.path.join(harness.WORK, "results.json"), "w") as f:
        json.dump({"info": info, "scales": scales, "results": suite.results, "comparisons": suite.comparisons,
                   "failures": suite.failures, "skipped": skipped}, f, indent=2, default=str)
    complete = not args.smoke and not args.no_write and scales == list(catalogs.SCALES)
    if complete and not suite.failures:
        report.write_benchmarks_md(sections)
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
