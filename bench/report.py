"""The report: every target of bench/targets.toml evaluated against a run's
measurements, the tables per backend, and the results sections of
BENCHMARKS.md."""

import os
import re
import tomllib

from catalogs import SCALES
from harness import ROOT, fmt_time, log

TARGETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "targets.toml")

LABELS = {
    "version": "`milly --version`",
    "show": "`product show ID --user U`",
    "list_page1": "`product list` page 1",
    "list_deep": "`product list` deep page",
    "name_rare": "`product list --name` rare",
    "name_common": "`product list --name` common",
    "name_pair": "`product list --name` rare phrase",
    "adjust": "`stock adjust ID --change +1`",
    "list_all": "`product list --all -o ndjson`",
    "import": "`import products` (fresh catalog)",
    "import_stock": "`import stock` (one change per product)",
    "import_progress": "`import stock` under a pty, with vs without progress bar",
    "concurrent": "8 concurrent writers of `stock adjust`, one product",
    "contention_32": "32 concurrent writers of `stock adjust`, one product",
    "deep_vs_page1": "deep page vs page 1",
    "tls_default": "`product show` with the default ssl-mode (preferred) vs ssl-mode=disabled, server without TLS",
    "linear_all": "`product list --all`",
}


def load_targets(path=TARGETS):
    with open(path, "rb") as f:
        targets = tomllib.load(f)["target"]
    for t in targets:
        missing = {"workload", "backend", "metric", "op", "bound", "issue"} - set(t)
        if missing:
            raise ValueError(f"{path}: a target lacks {', '.join(sorted(missing))}: {t}")
        if t["metric"] not in METRICS:
            raise ValueError(f"{path}: unknown metric {t['metric']!r}")
        if t["op"] not in ("<=", ">=", "<", ">"):
            raise ValueError(f"{path}: unknown op {t['op']!r}")
    return targets


def label(r):
    text = LABELS.get(r["key"], r["key"])
    if r["key"] == "list_deep":
        text = f"`product list` page {r['page']:,}"
    if r["key"].startswith("name_"):
        text += f" (`{r['term']}`, {r['hits']:,} hits)"
    return text


def ratio(r, a, b):
    return r["median"][a] / r["median"][b]


# metric -> (value of a record or comparison, how the measurement is shown)
METRICS = {
    "over_floor": (lambda r: ratio(r, "milly", "floor"),
                   lambda r, v: f"{v:.2f}× ({fmt_time(r['median']['milly'])} vs {fmt_time(r['median']['floor'])})"),
    "over_client": (lambda r: ratio(r, "milly", "client"),
                    lambda r, v: f"{v:.2f}× ({fmt_time(r['median']['milly'])} vs {fmt_time(r['median']['client'])})"),
    "over_true": (lambda r: ratio(r, "milly", "true"),
                  lambda r, v: f"{v:.2f}× ({fmt_time(r['median']['milly'])} vs {fmt_time(r['median']['true'])})"),
    "median": (lambda r: r["median"]["milly"], lambda r, v: fmt_time(v)),
    "same_run": (lambda c: c["ratio"],
                 lambda c, v: f"{v:.2f}× ({c['b']}: {fmt_time(c['b_median'])}, {c['a']}: {fmt_time(c['a_median'])})"),
    "peak_mb": (lambda r: r["peak_kib"]["milly"] * 1024 / 1e6, lambda r, v: f"{v:.1f} MB"),
    "rate": (lambda r: r["rate"], lambda r, v: f"{v:,.0f} rows/s ({fmt_time(r['median']['milly'])})"),
    "overhead": (lambda r: r["overhead"],
                 lambda r, v: f"{v:+.1%} ({fmt_time(r['median']['milly'])} vs {fmt_time(r['median']['no_progress'])})"),
    "failures": (lambda r: r["failures"],
                 lambda r, v: f"{v} of {r['expected']:,} failed; attempts: {r['first_attempt']:.0%} first, "
                              f"mean {r['mean_attempts']:.2f}, max {r['max_attempts']}"),
    "first_attempt": (lambda r: r["first_attempt"],
                      lambda r, v: f"{v:.1%} (mean {r['mean_attempts']:.2f}, max {r['max_attempts']})"),
    "wall_ratio": (lambda r: r["wall_ratio"],
                   lambda r, v: f"{v:.2f}× ({fmt_time(r['median']['milly'])} vs "
                                f"{fmt_time(r['median']['sequential'])})"),
}

OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, ">": lambda a, b: a > b}


def fmt_bound(t):
    b, m = t["bound"], t["metric"]
    if m in ("over_floor", "over_client", "over_true", "same_run", "wall_ratio"):
        text = f"{b}×"
    elif m == "median":
        text = fmt_time(b)
    elif m in ("overhead", "first_attempt"):
        text = f"{b:.0%}"
    elif m == "peak_mb":
        text = f"{b} MB"
    elif m == "rate":
        text = f"{b:,}/s"
    else:
        text = str(b)
    return f"{t['op'].replace('<=', '≤').replace('>=', '≥')} {text}"


def find(suite, backend, t, scales):
    """The record (or comparison) a target judges, or None."""
    if t["metric"] == "same_run":
        return suite.comparison(backend, t["workload"])
    scale = t.get("scale", "largest")
    if scale == "largest":
        scale = scales[-1]
    r = suite.get(backend, scale, t["workload"])
    if r is None:
        # Measured once per run (contention, start-up): whatever its label.
        r = next((x for x in suite.results if x["backend"] == backend and x["key"] == t["workload"]
                  and x["scale"] not in SCALES), None)
    return r


# How the targets table names each metric.
METRIC_NAMES = {
    "over_floor": "milly / floor", "over_client": "milly / raw client", "over_true": "milly / `true`",
    "median": "median", "same_run": "second / first", "peak_mb": "peak memory", "rate": "throughput",
    "overhead": "progress-bar cost", "failures": "failed commands", "first_attempt": "first-attempt successes",
    "wall_ratio": "wall time / sequential",
}
# Workloads measured once per run rather than per catalog.
ONCE = ("version", "contention_32")


def evaluate(suite, backend, scales, targets):
    """The targets that apply to `backend` (galera's go with mysql), as
    rows of (target, measured, bound, issue, verdict). Growth targets need
    two catalogs: a run of one leaves them out."""
    rows = []
    for t in targets:
        applies = t["backend"] in (backend, "both") or (backend == "mysql" and t["backend"] == "galera")
        growth = t["workload"].startswith("growth_")
        if not applies or (growth and len(scales) < 2):
            continue
        who = "galera" if t["backend"] == "galera" else backend
        r = find(suite, who, t, scales)
        name = t.get("what") or LABELS.get(t["workload"].removeprefix("growth_"), t["workload"])
        if growth:
            name = f"growth {scales[0]} → {scales[-1]}: {name}"
        if who == "galera":
            name += ", Galera (writers spread over the nodes)"
        scale = scales[-1] if t.get("scale", "largest") == "largest" else t["scale"]
        if t["metric"] != "same_run" and t["workload"] not in ONCE:
            name += f" ({scale})"
        name += f": {METRIC_NAMES[t['metric']]}"
        if r is None:
            rows.append((name, "not measured", fmt_bound(t), t["issue"], "—"))
            continue
        value_of, show = METRICS[t["metric"]]
        value = value_of(r)
        verdict = "PASS" if OPS[t["op"]](value, t["bound"]) else "MISS"
        rows.append((name, show(r, value), fmt_bound(t), t["issue"], verdict))
    return rows


def targets_table(rows):
    lines = ["| target | measured | bound | issue | |", "|---|---|---|---|---|"]
    for t, m, b, i, v in rows:
        v = f"**{v}**" if v == "MISS" else v
        lines.append(f"| {t} | {m} | {b} | #{i} | {v} |")
    return "\n".join(lines)


def mib(kib):
    return "—" if kib is None else f"{kib / 1024:.1f}"


def per_command_table(suite, backend):
    lines = ["| workload | catalog | milly | floor | raw client | milly / floor | milly / client | "
             "peak RSS MiB milly / floor / client |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in suite.results:
        if r["backend"] != backend or "floor" not in r["median"]:
            continue
        med, peak = r["median"], r["peak_kib"]
        lines.append(f"| {label(r)} | {r['scale']} | {fmt_time(med['milly'])} | {fmt_time(med['floor'])} | "
                     f"{fmt_time(med['client'])} | {ratio(r, 'milly', 'floor'):.2f}× | "
                     f"{ratio(r, 'milly', 'client'):.2f}× | {mib(peak.get('milly'))} / {mib(peak.get('floor'))} / "
                     f"{mib(peak.get('client'))} |")
    return "\n".join(lines)


def long_table(suite, backend):
    lines = ["| workload | catalog | milly | reference | milly / reference | throughput | peak RSS MiB milly |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for r in suite.results:
        if r["backend"] != backend or r["key"] not in ("version", "list_all", "import", "import_stock",
                                                        "import_progress"):
            continue
        med = r["median"]
        other = next((n for n in med if n != "milly"), None)
        ref = f"{fmt_time(med[other])} ({other.replace('_', ' ')})" if other else "—"
        rel = f"{med['milly'] / med[other]:.2f}×" if other else "—"
        rate = f"{r['rate']:,.0f} rows/s" if "rate" in r else "—"
        if r["key"] == "list_all":
            rate = f"{r['median']['milly'] / r['rows'] * 1e6:.2f} µs/row"
        lines.append(f"| {label(r)} | {r['scale']} | {fmt_time(med['milly'])} | {ref} | {rel} | {rate} | "
                     f"{mib(r['peak_kib'].get('milly'))} |")
    return "\n".join(lines)


def contention_table(suite, backends):
    rows = [r for r in suite.results if r["backend"] in backends and r["key"] in ("concurrent", "contention_32")]
    if not rows:
        return ""
    lines = ["| test | backend | adjustments | failed | first attempt | mean attempts | max | wall | ledger |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        wall = fmt_time(r["median"]["milly"])
        if "sequential" in r["median"]:
            wall += f" (sequential {fmt_time(r['median']['sequential'])}: {r['wall_ratio']:.2f}×)"
        count = r["procs"] * r["each"]
        what = f"{r['procs']} writers × {r['each']} `stock adjust`, one product"
        if r["key"] == "concurrent":
            what += f" (vs the same {count:,} sequential)"
        lines.append(f"| {what} | {r['backend']} ({r['scale']}) | {count:,} | {r['failures']} | "
                     f"{r['first_attempt']:.1%} | {r['mean_attempts']:.2f} | {r['max_attempts']} | {wall} | "
                     f"{'contiguous' if r['ledger_ok'] else 'BROKEN'} |")
    return "\n".join(lines)


def comparisons_table(suite, backend):
    same = [c for c in suite.comparisons if c["backend"] == backend]
    if not same:
        return ""
    lines = ["| comparison | first | second | second / first |", "|---|---:|---:|---:|"]
    for c in same:
        what = LABELS.get(c["key"].removeprefix("growth_"), c["key"])
        lines.append(f"| {what}: {c['b']} vs {c['a']} | {fmt_time(c['a_median'])} | {fmt_time(c['b_median'])} | "
                     f"{c['ratio']:.2f}× |")
    return "\n".join(lines)


def render_section(suite, backend, scales, targets, skipped=None):
    info = suite.info
    out = [f"_Run {suite.now.strftime('%Y-%m-%d %H:%M')} UTC on milly {info['commit']}, "
           f"catalogs {', '.join(scales)}; {info['cpu']}, {info['memory']}; "
           f"{info['hyperfine']}, sqlite3 {info['sqlite3']} (milly and the floor bundle SQLite via "
           f"{info['milly_sqlite']}); load average at start {info['load']:.2f}._", ""]
    if skipped:
        out += [f"**Not measured:** {skipped}", ""]
        return "\n".join(out)
    out += ["Targets:", "", targets_table(evaluate(suite, backend, scales, targets)), "",
            "Per-command workloads (medians of whole processes, same run for the three sides; peak RSS of "
            "the client process):", "", per_command_table(suite, backend), "",
            "Streams and bulk paths:", "", long_table(suite, backend)]
    cont = contention_table(suite, [backend] + (["galera"] if backend == "mysql" else []))
    if cont:
        out += ["", "Contention (attempts from `milly -v`):", "", cont]
    comp = comparisons_table(suite, backend)
    if comp:
        out += ["", "milly against itself, in one interleaved run each:", "", comp]
    notes = suite.extra.get(backend, {})
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
