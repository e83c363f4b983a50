"""Fixtures for the integration tests (run by meson with Debian's /usr/bin/python3)."""

import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import sktest  # noqa: E402


@pytest.fixture(scope="session")
def conn():
    c = sktest.open_libvirt()
    yield c
    c.close()


@pytest.fixture(scope="session")
def guests(conn):
    g = sktest.Guests(conn)
    g.remove_stale()
    yield g
    g.cleanup()


@pytest.fixture(scope="session")
def workdir():
    path = sktest.scratch_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def sk(workdir):
    path = os.environ.get("SLOTKEEPER")
    if not path:
        sktest.unavailable("SLOTKEEPER is not set (run the tests with 'meson test')")
    if not os.access(path, os.X_OK):
        sktest.unavailable(f"SLOTKEEPER={path} is not an executable (build it first)")
    return sktest.Slotkeeper(path, workdir)


# meson counts exit status 77 as "skipped": use it when anything was skipped (outside CI, for
# lack of libvirt or QEMU) and nothing failed, so a partly skipped run does not show as a pass.
# pytest's own exit 5 ("no tests collected") stays a failure.
_skipped = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and _skipped:
        session.exitstatus = 77
