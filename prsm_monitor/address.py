"""``PRSM_DASHBOARD_HOST`` and ``PRSM_DASHBOARD_PORT`` for ``streamlit run streamlit_app.py``.

``python -m prsm_monitor serve`` passes them to Streamlit as ``--server.address`` and
``--server.port``. A plain ``streamlit run`` binds its socket before it imports the app (its
``.streamlit/config.toml`` cannot read a variable that may be unset), so the app's import
checks where Streamlit listens: when a ``PRSM_DASHBOARD_*`` variable asks for another address
or port, and neither the command line nor ``STREAMLIT_SERVER_*`` chose one, the process
re-executes itself as the same ``streamlit run`` with the flags added (one line on stdout says
so). The new process listens where the variables say; the old socket closes with the exec.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

import psutil
from streamlit import config

from .settings.model import Settings
from .settings.values import ConfigError

REEXEC_GUARD = "PRSM_DASHBOARD_REBOUND"  # set in the re-executed process: never twice


def added_flags(
    cmdline: Sequence[str], environ: Mapping[str, str], settings: Settings, bound_host, bound_port
) -> list[str]:
    """The ``--server.*`` flags that make Streamlit listen where the settings say (empty: it does,
    or the user chose Streamlit's own address or port, which wins)."""
    given = " ".join(cmdline)
    flags: list[str] = []
    wanted = (
        ("PRSM_DASHBOARD_HOST", "--server.address", "STREAMLIT_SERVER_ADDRESS", settings.host, bound_host),
        ("PRSM_DASHBOARD_PORT", "--server.port", "STREAMLIT_SERVER_PORT", settings.port, bound_port),
    )
    for variable, flag, streamlit_variable, value, bound in wanted:
        chosen = flag in given or streamlit_variable in environ
        if variable in settings.env_set and not chosen and str(value) != str(bound):
            flags += [flag, str(value)]
    return flags


def rerun_command(cmdline: Sequence[str], flags: Sequence[str]) -> list[str]:
    """``cmdline`` (this process's ``streamlit run ...``) with ``flags`` right after ``run``."""
    args = list(cmdline[1:])
    at = args.index("run") + 1 if "run" in args else len(args)
    return [sys.executable, *args[:at], *flags, *args[at:]]


def honour_dashboard_address() -> None:
    """Re-execute ``streamlit run`` with the flags of :func:`added_flags`, if any (see the module
    doc). A bad variable is left to the app, which shows the error on every page and path."""
    if os.environ.get(REEXEC_GUARD):
        return
    try:
        settings = Settings.from_env()
    except ConfigError:
        return
    cmdline = psutil.Process().cmdline()
    if "run" not in cmdline[1:]:
        return  # not `streamlit run` (AppTest, an import from a test): nothing was bound
    bound_host, bound_port = config.get_option("server.address"), config.get_option("server.port")
    flags = added_flags(cmdline, os.environ, settings, bound_host, bound_port)
    if not flags:
        return
    print(
        f"prsm_monitor: PRSM_DASHBOARD_HOST/PORT ask for {settings.host}:{settings.port}; "
        f"restarting as streamlit run {' '.join(flags)} ...",
        flush=True,
    )
    os.environ[REEXEC_GUARD] = "1"
    for connection in psutil.Process().net_connections(kind="inet"):  # uvicorn's socket is inheritable:
        if connection.status == psutil.CONN_LISTEN and connection.fd >= 0:  # it would stay bound, unserved
            os.set_inheritable(connection.fd, False)
    os.execv(sys.executable, rerun_command(cmdline, flags))
