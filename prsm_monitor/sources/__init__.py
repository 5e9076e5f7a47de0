"""Metric sources: one module per source.

A source is any object with:

- ``components``: the component names it reports, e.g. ``("system",)``;
- ``fields``: ``{component: [Field, ...]}``, the numeric fields kept in history;
- ``collect() -> {component: record}``: one reading. A record is a flat dict whose
  declared fields are numbers or ``None``; it may carry extra detail (lists, dicts)
  that is shown as the latest value but not kept in history. Raising is allowed: the
  collector turns it into one ``error`` alert per component and keeps ticking.

Optional: ``detail_fields`` (``{component: [Field, ...]}``) declares drill-down series, such
as one per node, that ``collect()`` may also return: they are kept in history but are not
components of ``get_latest_metrics()`` and raise no alerts of their own.
``conditions(records)`` yields ``(level, component, message, details)`` for
alerts the source asserts this tick (active while asserted, resolved when not), and
``close()`` releases what the source holds.
"""
