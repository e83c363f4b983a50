"""What a test does when the host lacks something it needs (libvirt, QEMU, a Python module, a
program, a built binary): skip, saying what to install, or fail.

Under CI (CI or SK_REQUIRE_INTEGRATION set to anything but 0/false/no) a missing prerequisite
fails the test: a CI host that lost libvirtd or QEMU must not pass by skipping everything.
Outside CI it skips, so a developer without libvirt can still run the rest; skplugin then makes
the run exit 77, which meson shows as SKIP rather than OK.
"""

import os
import shutil

import pytest


def required():
    """True when missing prerequisites must fail the tests (CI) rather than skip them."""
    for var in ("SK_REQUIRE_INTEGRATION", "CI"):
        val = os.environ.get(var, "").strip().lower()
        if val and val not in ("0", "false", "no"):
            return True
    return False


def unavailable(reason):
    """Skip with @reason, or fail with it under CI."""
    if required():
        pytest.fail(f"integration prerequisite missing (CI requires it): {reason}", pytrace=False)
    pytest.skip(reason)


def have(*programs):
    """True when every one of @programs is on PATH."""
    return all(shutil.which(p) for p in programs)


def program(var):
    """The built binary meson names in environment variable @var (SLOTKEEPER, SLOTKEEPERD), or
    unavailable() saying how to get it."""
    path = os.environ.get(var)
    if not path:
        unavailable(f"{var} is not set (run the tests with 'meson test')")
    if not os.access(path, os.X_OK):
        unavailable(f"{var}={path} is not an executable (build it first)")
    return path
