"""What every benchmark does the same way: read its options, print a fixed-width table of results.

A table is a tuple of (field, heading, width, format) columns.
"""

import argparse
from dataclasses import asdict


def table_line(cells: list[str], table) -> str:
    """One line: the first column left-aligned, the figures right-aligned."""
    widths = [width for _field, _heading, width, _format in table]
    return "  ".join(
        cell.ljust(width) if i == 0 else cell.rjust(width)
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
    ).rstrip()


def heading_line(table) -> str:
    return table_line([heading for _field, heading, _width, _format in table], table)


def row_line(result, table) -> str:
    """A dataclass result as a line; missing figures show as '-'."""
    values = asdict(result)
    return table_line(
        ["-" if values[name] is None else fmt.format(values[name]) for name, _heading, _width, fmt in table], table
    )


# --- option types ------------------------------------------------------------------


def positive(kind=int):
    """An option type: a number of `kind` above zero."""

    def parse(value: str):
        try:
            number = kind(value)
        except ValueError:
            number = 0
        if number <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {value!r}")
        return number

    return parse


def sizes(value: str) -> list[int]:
    """An option type: comma-separated positive row counts."""
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated row counts, got {value!r}") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected positive row counts, got {value!r}")
    return counts


def engine_names(known):
    """An option type: comma-separated names, each one of `known`."""

    def parse(value: str) -> list[str]:
        names = [part.strip() for part in value.split(",") if part.strip()]
        unknown = [name for name in names if name not in known]
        if not names or unknown:
            raise argparse.ArgumentTypeError(f"expected some of {', '.join(known)}, got {value!r}")
        return names

    return parse


def koja_families_csv(count: int) -> bytes:
    """A participant file of `count` one-member families in Kelurahan Lagoa, Koja, owing 1–24 months."""
    header = (
        "card_no,nik,name,phone,segment,class,family_id,province,city,kecamatan,kelurahan,rt,rw,address,"
        "months_in_arrears,arrears_amount,autodebit,as_of\n"
    )
    lines = [header]
    for n in range(1, count + 1):
        lines.append(
            f"{n:013d},3172{n:012d},Peserta {n},0812{n:08d},PBPU,3,,DKI Jakarta,"
            f"Kota Administrasi Jakarta Utara,Koja,Lagoa,{n % 20 + 1},{n % 9 + 1},Jl. Enggano {n},"
            f"{n % 24 + 1},{35_000 * (n % 24 + 1)},tidak,2026-11-01\n"
        )
    return "".join(lines).encode()
