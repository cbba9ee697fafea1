"""servicedelivery: the delivery of IT and telecom services as data that drives action.

Subpackages, each importing only those before it:

- :mod:`servicedelivery.model`: the vocabulary (entities, owners, states, reasons, status maps).
- :mod:`servicedelivery.lifecycle`: the milestone state machine and its compiled table.
- :mod:`servicedelivery.eventlog`: the append-only event trail and its backends.
- :mod:`servicedelivery.calendars`: business calendars; working time and due dates in bulk.
- :mod:`servicedelivery.metrics`: columnar frames and vectorized flow metrics.
- :mod:`servicedelivery.policy`: escalation, routing and risk policies declared as data.
- :mod:`servicedelivery.testing`: Hypothesis strategies and contract suites for host applications.
"""

from servicedelivery._version import __version__

__all__ = ["__version__"]
