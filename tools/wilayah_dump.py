"""Read the public Kemendagri code list as the `cahyadsn/wilayah` repository publishes it (db/wilayah.sql).

The dump is a MySQL script of `('11.01.01.2001','Name'),` lines; nothing of it is committed here.
    .venv/bin/python tools/wilayah_dump.py wilayah.sql --cities telecollect/regions/kemendagri_cities.csv
    .venv/bin/python tools/wilayah_dump.py wilayah.sql --all instance/wilayah.csv
The first writes the package's reference list of regencies and cities; the second a
whole-country region file for `flask import regions` (and bench/regions.py).
"""

import argparse
import csv
import re
import sys
from pathlib import Path

_ROW = re.compile(r"^\('(?P<code>[0-9.]+)','(?P<name>(?:[^'\\]|\\.|'')*)'\)[,;]")


def read_dump(path: Path):
    """Yield (code with dots, name) for every place in the dump, in file order."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            match = _ROW.match(line.strip())
            if match:
                name = match["name"].replace("''", "'").replace("\\'", "'").strip()
                yield match["code"], name


def write_csv(rows, out: Path) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name"])
        for code, name in rows:
            writer.writerow([code, name])
            count += 1
    return count


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path)
    parser.add_argument("--cities", type=Path, help="write the 514 regencies and cities here")
    parser.add_argument("--all", type=Path, help="write every place here")
    args = parser.parse_args(argv)
    if args.cities:
        cities = [(c.replace(".", ""), n) for c, n in read_dump(args.dump) if len(c) == 5]
        print(f"{write_csv(cities, args.cities)} regencies and cities → {args.cities}")
    if args.all:
        print(f"{write_csv(read_dump(args.dump), args.all)} places → {args.all}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
