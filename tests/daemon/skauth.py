"""Helpers of the authorization tests: a private bus that plays the system bus, and calls
made as another user (setpriv) with gdbus or the CLI."""

import os
import re
import shutil
import subprocess
import tempfile

import skdaemon

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("SK_SOURCE_ROOT", os.path.join(HERE, "..", ".."))
SHIPPED_CONF = os.environ.get(
    "SK_BUS_POLICY", os.path.join(SOURCE_ROOT, "dbus", "org.slotkeeper.SlotKeeper1.conf"))
NOBODY = 65534
ACTION = "org.slotkeeper.SlotKeeper1.manage"

# The system bus's own default policy (Debian's system.conf) and {authority}, the policy of
# the polkit authority; everything about org.slotkeeper.SlotKeeper1 comes from the shipped file.
SYSTEM_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={dir}/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  {authority}
  <include ignore_missing="no">{shipped}</include>
</busconfig>
"""
# The stand-in authority (mockpolkit.py, run as root)
MOCK_AUTHORITY_POLICY = """<policy user="root"><allow own="org.freedesktop.PolicyKit1"/></policy>
  <policy context="default"><allow send_destination="org.freedesktop.PolicyKit1"/></policy>"""
# polkitd's own bus policy, as installed
POLKITD_POLICY = '<include>/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>'

# A private session-like bus that anyone may connect to: the owner-uid check of a session
# service, without polkit.
OPEN_SESSION_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={dir}/session_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def shared_dir(path):
    os.chmod(path, 0o755)
    return path


def as_user(uid, argv, env=None, timeout=60):
    cmd = argv
    if uid != 0:
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"] + argv
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def gv_string(text):
    """GVariant text form of a string, for gdbus call."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def gdbus(bus, uid, path, method, *args):
    """gdbus call as @uid; returns (ok, output)."""
    argv = ["gdbus", "call", "--address", bus.address, "--dest", skdaemon.BUS_NAME,
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


def public_tempdir(prefix):
    """A temporary directory the user nobody can read (device files, the copied CLI)."""
    return shared_dir(tempfile.mkdtemp(prefix=prefix))


def public_cli(workdir):
    """The CLI, copied where the user nobody can run it (the build tree may be private)."""
    src = os.environ.get("SLOTKEEPER")
    if not src:
        skdaemon.unavailable("SLOTKEEPER is not set (run the tests with 'meson test')")
    dst = os.path.join(workdir, "slotkeeper")
    shutil.copy(src, dst)
    os.chmod(dst, 0o755)
    return dst


def polkit_service(bus, workdir):
    """slotkeeperd on @bus asking polkit, as on the system bus; started."""
    service = skdaemon.Service(bus, workdir)
    service.extra_args = ["--polkit"]
    service.start()
    return service


def settled(dom):
    """@dom once the service has given it its spares and left it alone."""
    skdaemon.wait_xml(dom, lambda x: len(skdaemon.free_ports(x)) >= skdaemon.SPARE_PORTS,
                      "spares")
    skdaemon.wait_stable(dom)
    return dom
