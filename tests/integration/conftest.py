"""Fixtures of the integration tests. The shared ones (conn, workdir, guest_files) and the hooks
(exit status 77 when something was skipped) come from tests/lib/skplugin.py."""

import pytest

import sklibvirt
import sktest
from skrequire import program

pytest_plugins = ["skplugin"]


@pytest.fixture(scope="module")
def guests(conn):
    """The domains the module defines (skit-p<pid>-...), removed afterwards."""
    yield from sklibvirt.domains_for_fixture(conn, sktest.STEM)


@pytest.fixture(scope="module")
def sk(workdir):
    """The built CLI, run on XML text."""
    return sktest.Slotkeeper(program("SLOTKEEPER"), workdir)
