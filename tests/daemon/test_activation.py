"""True from the first answer: slotkeeperd started by D-Bus activation (a real dbus-daemon with a
service file, as the installed one) takes its bus name only once every domain's properties are
read from libvirt, so the very call that activated it - `slotkeeper list` - shows a running,
managed guest as libvirt has it. Ten activations in a row."""

import json
import os
import signal
import stat
import subprocess
import time

import pytest

import skdaemon
from skdaemon import SPARE_PORTS, free_ports, inactive_xml, live_xml

ACTIVATION_BUS = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={dir}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

SERVICE_FILE = """[D-BUS Service]
Name={name}
Exec={wrapper}
"""

TRIES = 10
# Domains the service must read before it may answer: enough that a service answering before
# it has read them (or announcing them before) is caught, not by luck.
CROWD = 60


@pytest.fixture(scope="module")
def activation(workdir):
    """A bus that starts slotkeeperd on the first call to its name, and the service's log."""
    services = os.path.join(workdir, "services")
    os.makedirs(services, exist_ok=True)
    config = os.path.join(workdir, "activated.conf")
    with open(config, "w") as f:
        f.write(skdaemon.ISOLATED_CONFIG if skdaemon.ISOLATED else "")
    log = os.path.join(workdir, "activated.log")
    wrapper = os.path.join(workdir, "start-slotkeeperd")
    with open(wrapper, "w") as f:
        # dbus-daemon gives an activated service the bus address in DBUS_STARTER_ADDRESS.
        f.write(f"""#!/bin/sh
exec {skdaemon.daemon_path()} --bus-address "$DBUS_STARTER_ADDRESS" --connect {skdaemon.URI} \\
    --config {config} --verbose >>{log} 2>&1
""")
    os.chmod(wrapper, os.stat(wrapper).st_mode | stat.S_IXUSR)
    with open(os.path.join(services, skdaemon.BUS_NAME + ".service"), "w") as f:
        f.write(SERVICE_FILE.format(name=skdaemon.BUS_NAME, wrapper=wrapper))
    bus = skdaemon.PrivateBus(ACTIVATION_BUS, services=services)
    bus.log_path_service = log
    yield bus
    stop_activated(bus)
    bus.close()


def owner_pid(bus):
    _, GLib = skdaemon.gio()
    conn = bus.connection()
    try:
        owner = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetNameOwner",
                               GLib.Variant("(s)", (skdaemon.BUS_NAME,)), None, 0, 5000,
                               None).unpack()[0]
        return conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus",
                              "org.freedesktop.DBus", "GetConnectionUnixProcessID",
                              GLib.Variant("(s)", (owner,)), None, 0, 5000, None).unpack()[0]
    except GLib.Error:
        return None


def stop_activated(bus):
    pid = owner_pid(bus)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and bus.has_owner():
        time.sleep(0.1)
    assert not bus.has_owner(), "the activated slotkeeperd did not stop"


@pytest.fixture(scope="module")
def crowd(domains):
    """Shut-off domains the service lists but leaves alone (managed=no)."""
    return [domains.new_q35(f"crowd{i}", policy={"managed": "no"}).name()
            for i in range(CROWD)]


@pytest.fixture(scope="module")
def guest(domains, bus, workdir):
    """A running managed guest whose spares a first (ordinary) service has settled."""
    svc = skdaemon.Service(bus, workdir)
    svc.start()
    try:
        dom = domains.new_q35("activate")
        skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= SPARE_PORTS, "spares")
        skdaemon.wait_stable(dom)
    finally:
        svc.stop()
    dom.create()
    return dom


def test_first_answer_is_libvirts(activation, guest, crowd):
    cli = os.environ.get("SLOTKEEPER")
    if not cli or not os.access(cli, os.X_OK):
        skdaemon.unavailable("SLOTKEEPER is not set to the built CLI")
    env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=activation.address)
    for attempt in range(TRIES):
        assert not activation.has_owner(), "slotkeeperd runs before the call"
        proc = subprocess.run([cli, "--user", "--json", "list"], capture_output=True,
                              text=True, env=env, timeout=120)
        assert proc.returncode == 0, f"try {attempt}: {proc.stderr}"
        listed = {d["name"]: d for d in json.loads(proc.stdout)}
        assert guest.name() in listed, f"try {attempt}: {sorted(listed)}"
        missing = [name for name in crowd if name not in listed]
        assert not missing, f"try {attempt}: the first answer lacks {len(missing)} domains"
        assert all(listed[name]["state"] == "shut-off" for name in crowd), attempt
        mine = listed[guest.name()]
        live, config = live_xml(guest), inactive_xml(guest)
        assert mine["state"] == "running" and mine["active"] is True, (attempt, mine)
        assert mine["managed"] is True, (attempt, mine)
        assert mine["machine"].startswith("pc-q35"), (attempt, mine)
        assert mine["free_hotplug_slots"]["pcie"] == len(free_ports(live)), (attempt, mine)
        assert mine["free_hotplug_slots_next_boot"]["pcie"] == len(free_ports(config)), \
            (attempt, mine)
        stop_activated(activation)
    with open(activation.log_path_service, errors="replace") as f:
        log = f.read()
    assert log.count("ready:") == TRIES, log[-3000:]
