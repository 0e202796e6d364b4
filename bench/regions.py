"""Benchmark `flask import regions` with the whole country: the Kemendagri list of 91,599 places.

The list is public (the `cahyadsn/wilayah` repository's `db/wilayah.sql`, Kepmendagri
300.2.2-2138/2025) and is not committed here: give its path with `--wilayah`. Without
it this benchmark says so and is skipped. For each engine it:

1. converts the dump into a region CSV once (cached in the work directory);
2. imports it into a fresh, migrated database with the real command, in a child
   process, measuring wall time and that child's own peak memory;
3. imports the same file again and checks that nothing changed (created 0, updated 0).

Run from the repository root:
    .venv/bin/python -m bench.regions --wilayah ~/wilayah/db/wilayah.sql
"""

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.common import engine_names, heading_line, row_line
from bench.import_participants import ENGINES, GNU_TIME, ROOT, BenchError, flask, migrated, note
from tools.wilayah_dump import read_dump, write_csv

FLOOR_SECONDS = 60
FLOORS = f"Floor: the whole country in < {FLOOR_SECONDS} s; a second run changes nothing"


@dataclass
class Result:
    engine: str
    places: int
    first_seconds: float
    first_peak_mb: float
    second_seconds: float
    second_summary: str


TABLE = (
    ("engine", "engine", 10, "{}"),
    ("places", "places", 8, "{:,}"),
    ("first_seconds", "first s", 8, "{:.1f}"),
    ("first_peak_mb", "peak MB", 8, "{:.0f}"),
    ("second_seconds", "again s", 8, "{:.1f}"),
    ("second_summary", "second run", 44, "{}"),
)


def region_file(dump: Path, workdir: Path) -> tuple[Path, int]:
    path = workdir / "wilayah.csv"
    if not path.exists():
        note(f"converting {dump} → {path.name}")
        write_csv(read_dump(dump), path)
    return path, sum(1 for _ in path.open(encoding="utf-8")) - 1


def timed(url: str, path: Path, workdir: Path) -> tuple[float, float, str]:
    rss_file = workdir / "regions.rss"
    start = time.perf_counter()
    result = flask(url, "import", "regions", str(path), wrapper=(GNU_TIME, "-f", "%M", "-o", str(rss_file)))
    seconds = time.perf_counter() - start
    summary = result.stdout.strip().splitlines()[-1]
    return seconds, int(rss_file.read_text().split()[-1]) / 1024, summary


def measure(engine, path: Path, places: int, workdir: Path) -> Result:
    note(f"{engine.name}: migrating a fresh database")
    url = migrated(engine, "import")
    note(f"{engine.name}: importing {places:,} places")
    first, peak, summary = timed(url, path, workdir)
    if not summary.startswith(f"created {places - 38},"):  # the 38 provinces are there before
        raise BenchError(f"the first import said {summary!r}")
    second, _peak, again = timed(url, path, workdir)
    if not again.startswith("created 0, updated 0,"):
        raise BenchError(f"the second import changed places: {again!r}")
    return Result(engine.name, places, first, peak, second, again)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.regions", description=__doc__.splitlines()[0])
    parser.add_argument("--wilayah", type=Path, help="path of cahyadsn/wilayah's db/wilayah.sql")
    parser.add_argument(
        "--engines",
        type=engine_names(ENGINES),
        default="sqlite,postgresql",
        help="comma-separated engines (default: %(default)s)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=ROOT / "bench" / "out",
        help="where files, SQLite databases and results go (default: bench/out)",
    )
    args, _others = parser.parse_known_args(argv)  # bench.run gives every benchmark the same argv
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.wilayah is None:
        note("bench.regions: skipped (give --wilayah PATH of cahyadsn/wilayah's db/wilayah.sql)")
        return 0
    if not args.wilayah.is_file():
        print(f"bench: {args.wilayah} is not a file", file=sys.stderr)
        return 1
    workdir = args.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        engines = [ENGINES[name](workdir) for name in args.engines]
        for engine in engines:
            engine.check()
        path, places = region_file(args.wilayah, workdir)
        print(FLOORS)
        print(heading_line(TABLE), flush=True)
        for engine in engines:
            results.append(measure(engine, path, places, workdir))
            print(row_line(results[-1], TABLE), flush=True)
        (workdir / "regions.json").write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
