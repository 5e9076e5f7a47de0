import os
import time

import pytest

# The suite never writes history next to the repo: tests that want it on disk set a temporary
# PRSM_DATA_DIR (or Settings(data_dir=...)) themselves. Servers started by tests inherit this.
os.environ.setdefault("PRSM_PERSIST", "false")

from prsm_monitor.settings.env_services import default_data_dir
from prsm_monitor.settings.model import Settings


def wait_until(predicate, timeout=15.0, interval=0.01):
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s: {getattr(predicate, '__name__', predicate)}")
        time.sleep(interval)


@pytest.fixture(scope="session", autouse=True)
def checkout_data_dir_left_alone():
    """Fail the run if any test wrote into the checkout's own ``.prsm-monitor/`` (the default data
    dir): a user who runs the tests and then the app there would open it with the tests'
    settings and alerts. (Don't run the app from this checkout while the suite runs.)"""

    def files():
        folder = default_data_dir()
        if not folder.is_dir():
            return None
        return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}

    before = files()
    yield
    after = files()
    assert after == before, f"tests wrote into {default_data_dir()}: {before} -> {after}"


@pytest.fixture
def no_demo():
    return Settings(demo=False)


@pytest.fixture(scope="session")
def fault_runs():
    """Every demo fault, run once for the suite (see ``tests/fault_runs.py``)."""
    from .fault_runs import close_all, run_all  # imports this module's wait_until

    results = run_all()
    try:
        yield results
    finally:
        close_all(results)


def pytest_collection_modifyitems(config, items):
    """Under ``pytest -n N --dist loadgroup`` (test.sh), a module's tests run on one worker, so
    its module-scoped app, browser or demo network starts once; the modules that share the
    session's fault runs (``xdist_group("fault_runs")``) run on one worker together."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
