"""``python -m bench W1|W1s|W1m|W2|W2m|W2L|IMP|W3|W3b|CLI|W6|W6L|W8|W8q|PROF|MON|MONq|W7|W7q|UI|UIq
|all [--reps N] [--quick] [--no-peer] [--query-reps N] [--duration S]``."""

from __future__ import annotations

import argparse

from bench import report, runner
from bench.specs import WORKLOADS

NAMES = {name.upper(): name for name in WORKLOADS}  # names match case-insensitively


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Run gnomon and its peers side by side."
    )
    parser.add_argument(
        "workloads",
        nargs="+",
        type=str.upper,
        choices=[*NAMES, "ALL"],
        metavar="WORKLOAD",
        help=f"one or more of {', '.join(WORKLOADS)}, or all",
    )
    parser.add_argument("--reps", type=int, default=3, help="repetitions per system (default 3)")
    parser.add_argument(
        "--quick", action="store_true", help="measure slow peer variants (MLflow per call) once"
    )
    parser.add_argument("--no-peer", action="store_true", help="run the gnomon side only")
    parser.add_argument(
        "--query-reps", type=int, default=20, help="timed queries per process in W2/W2L"
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, help="measured seconds of load in W3/W3b"
    )
    return parser.parse_args()


def main() -> None:
    args = _parse()
    names = list(WORKLOADS) if "ALL" in args.workloads else [NAMES[w] for w in args.workloads]
    options = runner.Options(
        reps=args.reps,
        quick=args.quick,
        peers=not args.no_peer,
        query_reps=args.query_reps,
        duration=args.duration,
    )
    results = [runner.run(WORKLOADS[name], options) for name in names]
    report.show(results)


if __name__ == "__main__":
    main()
