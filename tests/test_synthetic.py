from __future__ import annotations

from collections import Counter

from servicedelivery.model import MilestoneState, Portfolio
from servicedelivery.synthetic import PROVIDERS, REGIONS, synthetic_portfolio


def test_same_seed_same_portfolio() -> None:
    assert synthetic_portfolio(orders=50, seed=1) == synthetic_portfolio(orders=50, seed=1)
    assert synthetic_portfolio(orders=50, seed=1) != synthetic_portfolio(orders=50, seed=2)


def test_portfolio_is_realistic() -> None:
    portfolio = synthetic_portfolio(orders=1_500)
    assert isinstance(portfolio, Portfolio)
    assert {site.region for site in portfolio.sites} == set(REGIONS)
    assert {service.provider for service in portfolio.services} == set(PROVIDERS)
    assert len({site.timezone for site in portfolio.sites}) >= 10
    states = Counter(m.state for m in portfolio.milestones)
    assert all(states[state] > 0 for state in MilestoneState)
    owners = Counter(m.owner for m in portfolio.milestones if m.owner is not None)
    assert len(owners) == 4
    # Customer-side blocks are the most common, as in real delivery work.
    assert owners.most_common(1)[0][0] == "customer"
