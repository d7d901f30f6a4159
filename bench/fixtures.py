#!/usr/bin/env python3
"""Deterministic catalog fixtures for milly's benchmarks.

Writes, for a catalog of N products (seeded, so every run makes the same
bytes):

  products.ndjson        what `milly import products` reads
  coupons.ndjson         what `milly import coupons` reads
  sqlite/products.csv    the same products as final SQLite rows, for the
  sqlite/stock_events.csv  `sqlite3 .import` baseline (columns in table order,
  sqlite/discounts.csv     no header)
  mysql/*.csv            the same rows for the `mariadb` LOAD DATA baseline
                         (DATETIME text, \\N for NULL); only with --mysql
  meta.json              counts, the products and customer the benchmark
                         uses, and the search terms with their hit counts

The catalog: every product has an opening stock and 1-3 further ledger
changes (3 events on average), one in five has a discount (most valid now,
some scheduled for later), and there is one coupon per ten products spread over one
customer per twenty products, plus a benchmark customer with eight coupons
of which some are expired, not yet valid, or smaller.

Names are "<Adjective> <Material> <Noun> <Series>-<number>" from small
vocabularies, so one material word is in about 1 in 12 names (the "common"
search term), a material-noun pair such as "walnut spoon" is in about 1 in
600 (rare as a phrase, though each of its trigrams is common), and the word
"quokka" is in exactly five names (the "rare" term).

Usage: fixtures.py --products N --out DIR [--seed 42] [--mysql]
Stdlib only; 1M products take about 20 seconds.
"""

import argparse
import json
import os
import random
import sys

GENERATOR_VERSION = 4

ADJECTIVES = (
    "Rustic Modern Classic Vintage Compact Deluxe Handmade Organic Sturdy Elegant "
    "Portable Minimal Bold Gentle Bright Quiet Smart Tiny Grand Royal Urban Coastal "
    "Nordic Golden Silver Crimson Azure Emerald Ivory Amber Velvet Polished Brushed "
    "Frosted Glazed Woven Hammered Carved Painted Tempered"
).split()
MATERIALS = "Steel Oak Walnut Bamboo Linen Cotton Wool Leather Ceramic Glass Copper Marble".split()
NOUNS = (
    "Mug Cup Bowl Plate Spoon Fork Knife Kettle Teapot Vase Lamp Chair Stool Table "
    "Shelf Basket Blanket Pillow Towel Apron Candle Clock Mirror Frame Tray Jar "
    "Bottle Box Bag Wallet Belt Scarf Hat Glove Sock Brush Comb Planter Rug Hook "
    "Rack Bench Crate Ladle Grater Whisk Sieve Board Coaster Napkin"
).split()
SERIES = "AX BQ CZ DR EK FM GT HV JW KP LN MR NS PT QV RW ST TX VZ WY".split()
RARE_WORD = "Quokka"
RARE_HITS = 5

DESCRIPTIONS = (
    "Made to last and easy to clean.",
    "A customer favourite since the first season.",
    "Ships in recycled packaging. Hand wash recommended.",
    "Sized for everyday use at home or in the office.",
    "Small batch production from a family workshop.",
    "",
    "Limited run: check the stock before promising a date.",
    "Pairs well with the rest of the series.",
)

# Fixed instants (fixed-width RFC 3339 UTC, as milly stores them).
CREATED_AT = "2025-06-01T12:00:00.000000Z"
DISCOUNT_WINDOWS = (
    ("2025-01-01T00:00:00.000000Z", "2099-01-01T00:00:00.000000Z"),  # valid now
    # Not started yet: a window already over can no longer be imported (it
    # would change nothing but the record of the past), so the rows the
    # discount join must pass over are scheduled ones.
    ("2098-01-01T00:00:00.000000Z", "2099-01-01T00:00:00.000000Z"),
)
DISCOUNT_PERCENTS = ("5", "10", "12.5", "15", "20", "25", "30", "50")
COUPON_PERCENTS = ("5", "10", "15", "20", "25")
BENCH_USER = "bench-user"
# The benchmark customer's coupons: (percent, valid_from, valid_to). The best
# valid one is 20% until 2098; 30% is expired, 40% is not valid yet.
BENCH_COUPONS = (
    ("10", "2025-01-01", "2099-01-01"),
    ("20", "2025-01-01", "2099-01-01"),
    ("20", "2025-01-01", "2098-01-01"),
    ("15", "2025-01-01", "2097-01-01"),
    ("30", "2024-01-01", "2025-01-01"),
    ("40", "2098-01-01", "2099-06-01"),
    ("5", "2025-01-01", "2099-01-01"),
    ("12.5", "2025-01-01", "2099-01-01"),
)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PAIRS = [a + b for a in CROCKFORD for b in CROCKFORD]


def ulid_from_counter(time_part: str, counter: int) -> str:
    """26 Crockford characters: 10 of time, 16 of a counter (as milly's
    monotonic ids within one import)."""
    out = []
    for _ in range(8):
        out.append(PAIRS[counter & 0x3FF])
        counter >>= 10
    return time_part + "".join(reversed(out))


def encode_time(millis: int) -> str:
    chars = []
    for _ in range(10):
        chars.append(CROCKFORD[millis & 31])
        millis >>= 5
    return "".join(reversed(chars))


def cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def bp(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def mysql_time(t: str) -> str:
    return t.replace("T", " ").replace("Z", "")


def rare_positions(n: int) -> set:
    return {max(1, (n * k) // (RARE_HITS + 1)) + 3 for k in range(1, RARE_HITS + 1)}


def chosen_positions(n: int) -> dict:
    """Products the benchmark reads and writes, by position (seq)."""
    return {"show": n // 2, "adjust": n // 3, "concurrent": n // 4 + 1}


def generate(n: int, out: str, seed: int, mysql: bool) -> dict:
    rng = random.Random(seed)
    os.makedirs(os.path.join(out, "sqlite"), exist_ok=True)
    if mysql:
        os.makedirs(os.path.join(out, "mysql"), exist_ok=True)
    time_part = encode_time(1748779200000)  # CREATED_AT in ms
    counter = 0
    rare = rare_positions(n)
    chosen = chosen_positions(n)
    counts = {"products": 0, "stock_events": 0, "discounts": 0, "coupons": 0}
    term_hits = {"common": 0, "rare": 0, "pair": 0}
    common_word, pair = "steel", ("walnut", "spoon")

    def w(path):
        return open(os.path.join(out, path), "w", encoding="utf-8", newline="\n", buffering=1 << 20)

    nd = w("products.ndjson")
    sp, se, sd = w("sqlite/products.csv"), w("sqlite/stock_events.csv"), w("sqlite/discounts.csv")
    if mysql:
        mp, me, md = w("mysql/products.csv"), w("mysql/stock_events.csv"), w("mysql/discounts.csv")
        mct = mysql_time(CREATED_AT)
    event_seq = 0
    discount_seq = 0
    choice, randint, rand = rng.choice, rng.randint, rng.random
    for seq in range(1, n + 1):
        adjective = choice(ADJECTIVES)
        material = choice(MATERIALS)
        noun = choice(NOUNS)
        name = f"{adjective} {material} {noun} {choice(SERIES)}-{randint(100, 9999)}"
        if seq in rare:
            name = f"{adjective} {RARE_WORD} {noun} {choice(SERIES)}-{randint(100, 9999)}"
        folded = name.lower()
        if common_word in folded:
            term_hits["common"] += 1
        if RARE_WORD.lower() in folded:
            term_hits["rare"] += 1
        if f"{pair[0]} {pair[1]}" in folded:
            term_hits["pair"] += 1
        description = choice(DESCRIPTIONS)
        price = f"{randint(1, 9999)}.{randint(0, 99):02d}"
        stock = randint(0, 500)
        changes = []
        total = stock
        for _ in range(randint(1, 3)):
            change = randint(-min(total, 20), 50) if total > 0 else randint(1, 50)
            if change == 0:
                change = 1
            total += change
            changes.append(change)
        discount = None
        if seq == chosen["show"] or rand() < 0.2:
            window = DISCOUNT_WINDOWS[0] if (seq == chosen["show"] or rand() < 0.8) else DISCOUNT_WINDOWS[1]
            discount = (choice(DISCOUNT_PERCENTS), window)

        # NDJSON for milly (prices and percents as exact decimal strings).
        row = {"name": name, "price": price, "description": description, "stock": stock,
               "stock_changes": changes}
        if discount:
            row["discount_percent"] = discount[0]
            row["discount_from"] = discount[1][0]
            row["discount_until"] = discount[1][1]
        nd.write(json.dumps(row, separators=(",", ":")))
        nd.write("\n")

        # Final rows for the baselines, with ids in milly's format.
        pid = "PROD" + ulid_from_counter(time_part, counter)
        counter += 1
        price_cents = cents(price)
        sp.write(f"{seq},{pid},{name},{folded},{description},{price_cents},{CREATED_AT},{CREATED_AT}\n")
        if mysql:
            mp.write(f"{seq},{pid},{name},{folded},{description},{price_cents},{mct},{mct}\n")
        version, total = 1, stock
        for change in [stock] + changes:
            if version > 1:
                total += change
            event_seq += 1
            eid = "EVT" + ulid_from_counter(time_part, counter)
            counter += 1
            se.write(f"{event_seq},{eid},{pid},{change},{total},{version},,{CREATED_AT}\n")
            if mysql:
                me.write(f"{event_seq},{eid},{pid},{change},{total},{version},\\N,{mct}\n")
            version += 1
        counts["stock_events"] += version - 1
        if discount:
            discount_seq += 1
            did = "DISC" + ulid_from_counter(time_part, counter)
            counter += 1
            percent, (start, until) = discount
            sd.write(f"{discount_seq},{did},{pid},{bp(percent)},{start},{until},1,{CREATED_AT}\n")
            if mysql:
                md.write(f"{discount_seq},{did},{pid},{bp(percent)},{mysql_time(start)},{mysql_time(until)},1,{mct}\n")
            counts["discounts"] += 1
        counts["products"] += 1
    for f in (nd, sp, se, sd) + ((mp, me, md) if mysql else ()):
        f.close()

    # Coupons: one per ten products over one customer per twenty, then the
    # benchmark customer's.
    customers = max(1, n // 20)
    with w("coupons.ndjson") as cf:
        for i in range(max(1, n // 10)):
            valid_from, valid_to = "2025-01-01", "2099-01-01"
            r = rand()
            if r < 0.1:
                valid_from, valid_to = "2024-01-01", "2025-01-01"
            elif r < 0.15:
                valid_from, valid_to = "2098-01-01", "2099-01-01"
            row = {"user": f"customer-{randint(1, customers):07d}", "percent": choice(COUPON_PERCENTS),
                   "valid_from": valid_from, "valid_to": valid_to, "code": f"C{i:08d}"}
            cf.write(json.dumps(row, separators=(",", ":")) + "\n")
            counts["coupons"] += 1
        for i, (percent, valid_from, valid_to) in enumerate(BENCH_COUPONS):
            row = {"user": BENCH_USER, "percent": percent, "valid_from": valid_from,
                   "valid_to": valid_to, "code": f"BENCH{i}"}
            cf.write(json.dumps(row, separators=(",", ":")) + "\n")
            counts["coupons"] += 1

    meta = {
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "products": n,
        "counts": counts,
        "mysql_csv": mysql,
        "positions": chosen,
        "user": BENCH_USER,
        "terms": {
            "common": {"term": common_word, "hits": term_hits["common"]},
            "rare": {"term": RARE_WORD.lower(), "hits": term_hits["rare"]},
            "pair": {"term": f"{pair[0]} {pair[1]}", "hits": term_hits["pair"]},
        },
    }
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return meta


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--products", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--mysql", action="store_true", help="also write the MySQL CSVs")
    args = ap.parse_args(argv)
    meta = generate(args.products, args.out, args.seed, args.mysql)
    json.dump(meta, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
