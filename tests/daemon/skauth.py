"""Helpers of the authorization tests: a private bus that plays the system bus (its config built
by tests/lib/skbus.py around the shipped policy), and calls made as another user (setpriv,
tests/lib/skuser.py) with gdbus or the CLI."""

import os
import re
import shutil

import pytest

from skbus import OPEN_SESSION_CONFIG
from sknames import ACTION, BUS_NAME
from skpolkit import POLKITD_POLICY, SHIPPED_CONF, SYSTEM_BUS_CONFIG
from skpaths import SOURCE_ROOT
from skrequire import program
from skservice import Service, settled
from skuser import NOBODY, as_user, public_tempdir, shared_dir

__all__ = [
    "ACTION", "MOCK_AUTHORITY_POLICY", "NOBODY", "OPEN_SESSION_CONFIG", "POLKITD_POLICY",
    "SHIPPED_CONF", "SOURCE_ROOT", "SYSTEM_BUS_CONFIG", "as_user", "cli", "gdbus", "gv_string",
    "macs", "polkit_service", "public_cli", "public_tempdir", "settled", "shared_dir", "slotkeeper",
    "write_device",
]

# SHIPPED_CONF, SYSTEM_BUS_CONFIG and POLKITD_POLICY come from tests/lib/skpolkit.py.
# The stand-in authority (mockpolkit.py, run as root)
MOCK_AUTHORITY_POLICY = """<policy user="root"><allow own="org.freedesktop.PolicyKit1"/></policy>
  <policy context="default"><allow send_destination="org.freedesktop.PolicyKit1"/></policy>"""


def gv_string(text):
    """GVariant text form of a string, for gdbus call."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def gdbus(bus, uid, path, method, *args):
    """gdbus call as @uid; returns (ok, output)."""
    argv = ["gdbus", "call", "--address", bus.address, "--dest", BUS_NAME,
            "--object-path", path, "--method", method] + list(args)
    res = as_user(uid, argv)
    return res.returncode == 0, (res.stdout + res.stderr).strip()


def write_device(workdir, name, xml):
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write(xml)
    os.chmod(path, 0o644)
    return path


def slotkeeper(bus, cli, uid, *args):
    return as_user(uid, [cli, "--system"] + list(args),
                   env={"DBUS_SYSTEM_BUS_ADDRESS": bus.address})


def macs(xml):
    return set(re.findall(r"<mac address='([0-9a-f:]+)'", xml))


def public_cli(workdir):
    """The CLI, copied where the user nobody can run it (the build tree may be private)."""
    src = program("SLOTKEEPER")
    dst = os.path.join(workdir, "slotkeeper")
    shutil.copy(src, dst)
    os.chmod(dst, 0o755)
    return dst


@pytest.fixture(scope="module")
def cli(workdir):
    """public_cli() of the module's (public) workdir."""
    return public_cli(workdir)


def polkit_service(bus, workdir):
    """slotkeeperd on @bus asking polkit, as on the system bus; started."""
    service = Service(bus, workdir)
    service.extra_args = ["--polkit"]
    service.start()
    return service

