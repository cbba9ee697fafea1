from __future__ import annotations

from servicedelivery.eventlog import InMemoryEventLog
from servicedelivery.synthetic import synthetic_portfolio, synthetic_trail


def test_the_synthetic_trail_replays_into_its_portfolio() -> None:
    portfolio = synthetic_portfolio(orders=60, seed=3)
    batches = synthetic_trail(portfolio, seed=3)
    log = InMemoryEventLog()
    for stream_id, events in batches:
        log.append(stream_id, events)
    view = log.portfolio()
    assert sorted(view.items.tolist()) == sorted(m.id for m in portfolio.milestones)
    assert view.milestones(m.id for m in portfolio.milestones) == portfolio.milestones
    kinds = {record.type for record in log.read_all()}
    assert {"milestone.blocked", "milestone.unblocked", "site.registered", "order.placed"} <= kinds
    assert log.verify().records == log.head()


def test_the_synthetic_trail_is_reproducible() -> None:
    portfolio = synthetic_portfolio(orders=10, seed=5)
    first = synthetic_trail(portfolio, seed=5)
    assert first == synthetic_trail(portfolio, seed=5)
    assert first != synthetic_trail(portfolio, seed=6)
