"""Entry point of `make bench`: run every benchmark, in order, with the given arguments.

Run from the repository root as `.venv/bin/python -m bench.run [options]`.
A new benchmark is a module with `main(argv) -> int`, added to BENCHMARKS.
"""

import sys

from bench import (
    cadre,
    calls,
    claims,
    desk,
    import_participants,
    import_writers,
    national,
    payments,
    regions,
    reports,
    sms,
)

#: Benchmarks run by `make bench`, in this order; each gets the command-line
#: arguments as they were given (`make bench BENCH_ARGS="--sizes 2000"`).
BENCHMARKS = [
    import_participants.main,
    import_writers.main,
    regions.main,
    claims.main,
    payments.main,
    sms.main,
    reports.main,
    cadre.main,
    desk.main,
    calls.main,
    national.main,
]


def main(argv: list[str] | None = None) -> int:
    """Run each benchmark; stop at the first that fails, so its error is the last thing shown."""
    argv = sys.argv[1:] if argv is None else argv
    for benchmark in BENCHMARKS:
        status = benchmark(argv)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
