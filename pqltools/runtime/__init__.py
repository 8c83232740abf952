"""The reference interpreter.

* :mod:`~pqltools.runtime.compiler` — ``compile``, ``Program``, ``evaluate``, ``evaluate_value``
* :mod:`~pqltools.runtime.functions` — one implementation per :mod:`pqltools.catalog` entry
* :mod:`~pqltools.runtime.values` — null, Boolean coercion, comparison, arithmetic
* :mod:`~pqltools.runtime.timephrases` — UTC instants, periods and ``occurs`` windows
* :mod:`~pqltools.runtime.regex` — linear-time regular expressions (RE2)
* :mod:`~pqltools.runtime.context` — the per-evaluation state and clock
* :mod:`~pqltools.runtime.membership` — ``segment``: segmentMembership over many profiles

Semantics: docs/semantics.md.
"""
