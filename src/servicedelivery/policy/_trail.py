"""Escalations in the event trail: record what an evaluation raised, read back what was raised.

Each escalation level gets its own stream, ``escalation:<policy>/<item>/<episode>/<level>``: the
first :class:`~servicedelivery.eventlog.EscalationRaised` opens it, a re-notification (repeat) is
another ``EscalationRaised`` in it, and the :class:`~servicedelivery.eventlog.EscalationCleared`
that ends the escalation goes to the stream of its highest level. So the log's columns
(``read_columns``: stream ids, types, occurrence times, event ids) hold everything de-duplication
needs, and :meth:`Escalations.from_columns` reads it back with numpy string operations over the
distinct streams, without decoding a payload.
"""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.eventlog import (
    Appended,
    EscalationCleared,
    EscalationRaised,
    EventColumns,
    EventLog,
    NewEvent,
)
from servicedelivery.model import from_epoch_ns
from servicedelivery.policy._escalations import Escalations
from servicedelivery.policy._findings import FindingAction, Findings

__all__ = [
    "escalation_events",
    "escalation_stream",
    "escalations_from_columns",
    "escalations_from_log",
    "record_escalations",
]

_RAISED = "escalation.raised"
_CLEARED = "escalation.cleared"
_PREFIX = "escalation:"


def escalation_stream(policy: str, item: object, episode: int, level: int) -> str:
    """The stream of one escalation level: ``escalation:<policy>/<item>/<episode>/<level>``."""
    return f"{_PREFIX}{policy}/{item}/{int(episode)}/{int(level)}"


def _is_uuid(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def escalation_events(
    findings: Findings, *, item_kind: str = "milestone", source: str | None = "policy"
) -> list[tuple[str, NewEvent]]:
    """The events that record the findings to record (raises, repeats and clearings).

    Args:
        findings: What an evaluation found; rows that ask for nothing new are left out.
        item_kind: The stream kind of the items (``"milestone"``: an item ``M-1`` is the stream
            ``milestone:M-1``). A spike policy's group (``"provider:acme"``) is used as it is.
        source: The events' source.

    Returns:
        ``(stream id, event)`` pairs, in the findings' order. Evidence is cited when the frame's
        evidence is event ids (frames read from a log); positions are not cited.
    """
    new = findings.new()
    occurred = from_epoch_ns(new.now)
    result = []
    for row in range(len(new)):  # one per event to write: recording is I/O, not evaluation
        policy = str(new.policy[row])
        item = str(new.item[row])
        episode = int(new.episode[row])
        level = int(new.level[row])
        is_spike = not np.isnat(new.day[row])
        entity = item if is_spike else f"{item_kind}:{item}"
        explanation = new.explain(row)
        stream = escalation_stream(policy, item, episode, level)
        if new.action[row] == _CLEAR_CODE:
            event: Any = EscalationCleared(
                policy=policy, item=entity, episode=episode, explanation=explanation
            )
        else:
            evidence = tuple(value for value in new.evidence(row) if _is_uuid(value))
            event = EscalationRaised(
                policy=policy,
                item=entity,
                episode=episode,
                level=level,
                target=str(new.target[row]),
                explanation=explanation,
                evidence=evidence,
            )
        result.append((stream, NewEvent(event, occurred_at=occurred, source=source)))
    return result


_CLEAR_CODE = list(FindingAction).index(FindingAction.CLEAR)


def record_escalations(
    log: EventLog,
    findings: Findings,
    *,
    item_kind: str = "milestone",
    source: str | None = "policy",
) -> list[Appended]:
    """Append the events of :func:`escalation_events` to ``log``, one batch per stream.

    Raises:
        ValidationError: An event the log refuses (nothing of that batch is written).
    """
    return [
        log.append(stream, [event])
        for stream, event in escalation_events(findings, item_kind=item_kind, source=source)
    ]


def escalations_from_columns(columns: EventColumns) -> Escalations:
    """The escalations recorded in a log's columns (``log.read_columns()``), in log order.

    Raises:
        ValidationError: An escalation stream whose id is not ``<policy>/<item>/<episode>/<level>``.
    """
    kinds = columns.kinds
    codes = [kinds.index(name) for name in (_RAISED, _CLEARED) if name in kinds]
    rows = np.flatnonzero(np.isin(columns.kind, codes))
    if not len(rows):
        return Escalations.empty()
    used, inverse = np.unique(columns.stream[rows], return_inverse=True)
    streams = np.asarray(columns.streams[used], dtype=str)
    policy, item, episode, level = _parse(streams)
    inverse = inverse.reshape(-1)
    cleared = columns.kind[rows] == kinds.index(_CLEARED) if _CLEARED in kinds else rows < 0
    return Escalations(
        policy=policy[inverse],
        item=item[inverse],
        episode=episode[inverse],
        level=np.where(cleared, 0, level[inverse]),
        cleared=cleared,
        at=columns.occurred_ns[rows],
        target=np.full(len(rows), None, dtype=object),
        event_id=columns.event_id[rows],
    )


def _parse(
    streams: npt.NDArray[np.str_],
) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Split ``escalation:<policy>/<item>/<episode>/<level>`` stream ids, one per distinct stream."""
    entity = np.char.partition(streams, ":")[:, 2]
    policy, _, rest = np.char.partition(entity, "/").T
    rest, _, level = np.char.rpartition(rest, "/").T
    item, _, episode = np.char.rpartition(rest, "/").T
    good = (
        np.char.startswith(streams, _PREFIX)
        & (np.char.str_len(policy) > 0)
        & (np.char.str_len(item) > 0)
        & np.char.isdigit(episode)
        & np.char.isdigit(level)
    )
    if not good.all():
        bad = streams[~good]
        raise ValidationError(
            [
                FieldError("stream", stream, "escalation:<policy>/<item>/<episode>/<level>")
                for stream in bad[:20].tolist()
            ],
            title=f"{len(bad)} escalation streams not written by the policy layer",
        )
    return (
        policy.astype(object),
        item.astype(object),
        episode.astype(np.int64),
        level.astype(np.int64),
    )


def escalations_from_log(log: EventLog) -> Escalations:
    """The escalations recorded in a log; see :func:`escalations_from_columns`."""
    return escalations_from_columns(log.read_columns())
