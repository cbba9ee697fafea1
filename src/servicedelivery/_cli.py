"""The ``servicedelivery`` command."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence

from servicedelivery._version import __version__
from servicedelivery.errors import ServiceDeliveryError
from servicedelivery.model import DEFAULT_TAXONOMY, MilestoneState, Portfolio
from servicedelivery.synthetic import synthetic_portfolio

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="servicedelivery",
        description="What is blocked, where, why, and who owns it.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="build a seeded synthetic portfolio and summarize it")
    demo.add_argument("--orders", type=int, default=2_000, help="how many orders (default 2000)")
    demo.add_argument("--seed", type=int, default=7, help="the seed (default 7)")
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            if args.orders < 1:
                parser.error(f"--orders: expected a positive number, got {args.orders}")
            portfolio = synthetic_portfolio(orders=args.orders, seed=args.seed)
            sys.stdout.write(summary(portfolio, title=f"Synthetic portfolio (seed {args.seed})"))
    except ServiceDeliveryError as error:
        sys.stderr.write(f"servicedelivery: error: {error}\n")
        return 1
    return 0


def summary(portfolio: Portfolio, *, title: str) -> str:
    """A plain-text summary of what is blocked, why, and on whom."""
    regions = {site.region for site in portfolio.sites}
    providers = {service.provider for service in portfolio.services}
    states = Counter(m.state for m in portfolio.milestones)
    blocked = [m for m in portfolio.milestones if m.state is MilestoneState.BLOCKED]
    lines = [
        title,
        "=" * len(title),
        f"{len(portfolio.orders):,} orders at {len(portfolio.sites):,} sites in {len(regions)} "
        f"regions; {len(portfolio.services):,} services from {len(providers)} providers; "
        f"{len(portfolio.milestones):,} milestones",
        "",
        "Milestones by state",
        *_table(
            [(state.value, states[state]) for state in MilestoneState], len(portfolio.milestones)
        ),
        "",
        f"Blocked milestones by owner ({len(blocked):,} blocked)",
        *_table(Counter(m.owner.value for m in blocked if m.owner).most_common(), len(blocked)),
        "",
        "Blocked milestones by reason",
        *_table(
            [
                (DEFAULT_TAXONOMY.require(code).label if code in DEFAULT_TAXONOMY else code, count)
                for code, count in Counter(m.reason for m in blocked if m.reason).most_common()
            ],
            len(blocked),
        ),
        "",
    ]
    return "\n".join(lines)


def _table(rows: Sequence[tuple[str, int]], total: int) -> list[str]:
    width = max((len(label) for label, _ in rows), default=0)
    return [
        f"  {label:<{width}}  {count:>7,}  {100 * count / total if total else 0:5.1f}%"
        for label, count in rows
    ]
