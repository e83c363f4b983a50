"""The pytest plugin of the libvirt suites (daemon, integration): the fixtures they share and
the hooks that make their results honest. A suite's conftest.py loads it with
pytest_plugins = ["skplugin"] and adds only what is its own.

Every fixture here is module-scoped: meson runs each test file as its own pytest process, and a
module that needs something else (a private work directory, a connection that may die) overrides
the fixture of the same name.
"""

import os
import shutil

import pytest

import skguest
import sklibvirt
import skservice


@pytest.fixture(scope="module")
def conn():
    """The libvirt connection of the module (skips/fails without libvirt)."""
    c = sklibvirt.open_libvirt()
    yield c
    c.close()


@pytest.fixture(scope="module")
def workdir(request):
    """A scratch directory of the module that everyone can read: QEMU (libvirt-qemu) opens
    disk images in it, and the authorization tests' user nobody reads device XML and runs the
    copied CLI there."""
    path = skguest.scratch_dir(f"sk-{request.module.__name__}-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def guest_files():
    """The booting test guest's kernel and initramfs (skguest.guest_files)."""
    path = skguest.guest_files()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, show the logs of the services started so far in this module."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for path in skservice.LOGS[-3:]:
            try:
                with open(path, errors="replace") as f:
                    text = f.read()[-15000:]
            except OSError:
                continue
            rep.sections.append((f"slotkeeperd log {os.path.basename(path)}", text))


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
