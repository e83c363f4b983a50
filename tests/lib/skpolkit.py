"""The real polkitd on a private bus that plays the system bus, with the shipped action: what the
authorization tests (daemon/test_polkitd.py) and the web console page's test (cockpit/) run.

polkitd reads actions only from /usr/share/polkit-1/actions, so the shipped action file is
placed there for a run (unless a package installed it) and removed afterwards.
"""

import os
import shutil
import subprocess
import time

from skbus import PrivateBus, system_bus_config
from skpaths import SOURCE_ROOT
from skproc import stop_process
from skrequire import unavailable
from skuser import shared_dir

POLKITD = "/usr/lib/polkit-1/polkitd"
ACTIONS_DIR = "/usr/share/polkit-1/actions"
SHIPPED_POLICY = os.path.join(SOURCE_ROOT, "policy", "org.slotkeeper.SlotKeeper1.policy")
SHIPPED_CONF = os.environ.get(
    "SK_BUS_POLICY", os.path.join(SOURCE_ROOT, "dbus", "org.slotkeeper.SlotKeeper1.conf"))

# The system bus (its default policy), {authority}, the policy of the polkit authority, and the
# shipped file: everything about org.slotkeeper.SlotKeeper1 comes from that file.
SYSTEM_BUS_CONFIG = system_bus_config("{authority}",
                                      '<include ignore_missing="no">{shipped}</include>')
# polkitd's own bus policy, as installed
POLKITD_POLICY = '<include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>'


def require():
    """polkitd, the shipped action and root (for polkitd's actions directory), or unavailable()."""
    for path, what in [(POLKITD, "polkitd (apt-get install polkitd)"),
                       (SHIPPED_POLICY, "the shipped polkit policy")]:
        if not os.path.exists(path):
            unavailable(f"{what} is missing: {path}")
    if os.geteuid() != 0:
        unavailable("polkitd's action and rules directories need root")


def place_action():
    """Puts the shipped action where polkitd reads it; returns the path to remove afterwards,
    or None when a package had installed it already (then it is used as it is)."""
    path = os.path.join(ACTIONS_DIR, os.path.basename(SHIPPED_POLICY))
    if os.path.exists(path):
        return None
    shutil.copy(SHIPPED_POLICY, path)
    return path


def system_bus():
    """A private bus playing the system bus, with polkitd's policy and the shipped
    org.slotkeeper.SlotKeeper1.conf; any user may connect (its directory is public)."""
    bus = PrivateBus(SYSTEM_BUS_CONFIG, shipped=SHIPPED_CONF, authority=POLKITD_POLICY)
    shared_dir(bus.dir)
    return bus


class Polkitd:
    """Debian's polkitd on @bus, logging to @workdir/polkitd.log; stop() ends it."""

    def __init__(self, bus, workdir):
        self.log_path = os.path.join(workdir, "polkitd.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen([POLKITD, "--no-debug"], stdout=log,
                                         stderr=subprocess.STDOUT,
                                         env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address))
        deadline = time.monotonic() + 30
        while not bus.has_owner("org.freedesktop.PolicyKit1"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(self.log_path, errors="replace") as f:
                    raise AssertionError(f"polkitd did not own its name: {f.read()}")
            time.sleep(0.1)

    def stop(self):
        stop_process(self.proc)
