"""The settings layer, at the bottom of the house: typed specs and their one validation.

Every setting is read through the checks here, whichever way it comes: ``PRSM_*`` variables
(:mod:`.environment`), ``.streamlit/secrets.toml`` (:mod:`.notify`), the rules file
(:mod:`.rules_file`), the API and the sidebar (:mod:`.thresholds`, :mod:`.limits`). A bad
value raises :class:`~.values.ConfigError` naming the setting, the value and what is expected.

Nothing here imports from the rest of the package but :mod:`prsm_monitor.fields` and
:mod:`prsm_monitor.redact` (both leaves): the layers above read settings, never the reverse.
"""
