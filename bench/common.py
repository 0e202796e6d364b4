"""What every benchmark prints the same way: a fixed-width table of results.

A table is a tuple of (field, heading, width, format) columns.
"""
from dataclasses import asdict


def table_line(cells: list[str], table) -> str:
    """One line: the first column left-aligned, the figures right-aligned."""
    return "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                     for i, (cell, (_field, _heading, width, _format)) in enumerate(zip(cells, table))).rstrip()


def heading_line(table) -> str:
    return table_line([heading for _field, heading, _width, _format in table], table)


def row_line(result, table) -> str:
    """A dataclass result as a line; missing figures show as '-'."""
    values = asdict(result)
    return table_line(["-" if values[name] is None else fmt.format(values[name])
                       for name, _heading, _width, fmt in table], table)
