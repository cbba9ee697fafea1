"""Run the benchmarks: ``python -m benchmarks [--quick] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    parser.add_argument("--only", nargs="*", default=None, help="run only these benchmark modules")
    args = parser.parse_args()
    here = Path(__file__).parent
    names = sorted(
        info.name for info in pkgutil.iter_modules([str(here)]) if info.name.startswith("bench_")
    )
    if args.only:
        names = [name for name in names if any(want in name for want in args.only)]
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"\n== {name}: {(module.__doc__ or '').strip().splitlines()[0]}")
        for result in module.run(quick=args.quick):
            print("  " + result.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
