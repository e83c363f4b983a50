"""The service under valgrind through a representative session: start, reconcile, a policy change,
attach (live+config, config-only with hotplug-require=no), plan, detach, a refused live attach
that prepares the next boot, errors of every kind, a domain undefined and one destroyed, then
SIGTERM. valgrind must report no invalid access and no definite leak (its error exit status,
checked by Service.stop, and its log)."""

import os
import re
import shutil
import signal
import time

import pytest

import skdaemon
from skdaemon import (SPARE_PORTS, device_address, free_ports, inactive_xml, live_xml, nic,
                      parse_addr)

VALGRIND_ERROR = 99
GLIB_SUPP = "/usr/share/glib-2.0/valgrind/glib.supp"


def valgrind_command(log_pattern):
    cmd = ["valgrind", "--leak-check=full", "--show-leak-kinds=definite",
           "--errors-for-leak-kinds=definite", f"--error-exitcode={VALGRIND_ERROR}",
           "--num-callers=40", "--track-origins=no", f"--log-file={log_pattern}"]
    if os.path.exists(GLIB_SUPP):
        cmd.append(f"--suppressions={GLIB_SUPP}")
    return cmd


@pytest.fixture(scope="module")
def service(bus, workdir, conn):
    """The module's service, under valgrind (this overrides conftest's)."""
    if not shutil.which("valgrind"):
        skdaemon.unavailable("valgrind is not installed (apt-get install valgrind)")
    s = skdaemon.Service(bus, workdir)
    s.log_pattern = os.path.join(workdir, "valgrind-%p.log")
    s.wrapper = valgrind_command(s.log_pattern)
    s.start_timeout = skdaemon.START_TIMEOUT * 6
    s.stop_timeout = 120  # the leak check of a GLib + libvirt process takes a while
    # GSlice is plain malloc since GLib 2.76; the variables keep older ones honest.
    s.env = {"G_SLICE": "always-malloc", "G_DEBUG": "gc-friendly"}
    s.start()
    yield s
    if s.running():
        s.stop(check=False)


def valgrind_logs(workdir):
    return sorted(os.path.join(workdir, f) for f in os.listdir(workdir)
                  if f.startswith("valgrind-") and f.endswith(".log"))


def wait_connected(client, timeout=180):
    """Under valgrind the service owns its name long before its libvirt connection is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        props = client.properties(skdaemon.MANAGER_PATH, skdaemon.MANAGER_IFACE)
        if props.get("Connected"):
            return
        time.sleep(0.5)
    pytest.fail(f"the service did not connect to libvirt within {timeout}s", pytrace=False)


def test_session_is_valgrind_clean(client, service, domains, conn, workdir):
    wait_connected(client)
    guest = domains.new_q35("vg-guest")
    spare = domains.new_q35("vg-spare")
    for dom in (guest, spare):
        skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= SPARE_PORTS, "spares",
                          timeout=180)
    client.reconcile()
    client.set_policy(spare.name(), spare_ports=SPARE_PORTS + 1)
    skdaemon.wait_xml(spare, lambda x: len(free_ports(x)) >= SPARE_PORTS + 1, "one more spare",
                      timeout=180)
    skdaemon.wait_stable(guest, seconds=2, timeout=180)
    client.managed_objects()
    path = client.get_domain(guest.name())
    client.properties(path)
    client.manager("GetSlots", "(sa{sv})", guest.name(), {}, reply="(aa{sv})")
    client.domain(path, "GetSlots", "(a{sv})", skdaemon.opts(inactive=True), reply="(aa{sv})")

    guest.create()
    name = guest.name()
    mac = "52:54:00:d7:70:01"
    _, address = client.attach(name, nic("virtio", mac), live=True, config=True)
    addr = parse_addr(address)
    assert device_address(live_xml(guest), mac) == addr
    assert device_address(inactive_xml(guest), mac) == addr
    plan = client.manager("Plan", "(ssa{sv})", name, nic("virtio", "52:54:00:d7:70:02"),
                          skdaemon.opts(live=True, config=True), reply="(a{sv})")[0]
    assert plan["ok"] is True, plan
    # Config only, on pcie-root: no port taken, a require=no record in the metadata.
    cold = nic("virtio", "52:54:00:d7:70:03")
    client.attach(name, cold, config=True, hotplug_require="no")
    assert device_address(inactive_xml(guest), "52:54:00:d7:70:03")[1] == 0
    client.detach(name, cold, config=True)
    assert device_address(inactive_xml(guest), "52:54:00:d7:70:03") is None
    # A legacy NIC cannot be hotplugged without a bridge: refused, the chain added for later.
    client.expect_error("NoFreeSlot", client.attach, name, nic("rtl8139", "52:54:00:d7:70:04"),
                        live=True, config=True)
    assert "pcie-to-pci-bridge" in skdaemon.models(inactive_xml(guest))

    # Errors.
    client.expect_error("NoSuchDomain", client.attach, "skdt-no-such-domain",
                        nic("virtio", "52:54:00:d7:70:05"), config=True)
    client.expect_error("NoSuchDomain", client.get_domain, "00000000-0000-0000-0000-000000000001")
    client.expect_error("InvalidXml", client.attach, name, "<interface", config=True)
    client.expect_error("InvalidDevice", client.detach, name,
                        nic("virtio", "52:54:00:d7:70:06"), config=True)
    client.expect_error("InvalidArgument", client.attach, name,
                        nic("virtio", "52:54:00:d7:70:07"), live="yes")
    client.expect_error("InvalidArgument", client.set_policy, name, legacy_bridge="sometimes")

    # Detach of the live device: a guest with nothing booted never acknowledges the unplug,
    # so only the persistent definition loses it; then the domain goes away in two ways.
    client.detach(name, nic("virtio", mac), config=True)
    assert device_address(inactive_xml(guest), mac) is None
    domains.remove(spare.name())
    guest.destroy()
    client.wait_property(path, "State", lambda v: v != "running")
    client.reconcile()

    # SIGTERM; the exit status is valgrind's VALGRIND_ERROR on any error, else the service's.
    proc, service.proc = service.proc, None
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(service.stop_timeout)
    logs = valgrind_logs(workdir)
    assert logs, "valgrind wrote no log"
    text = "".join(open(p, errors="replace").read() for p in logs)
    invalid = re.findall(r"^==\d+== (Invalid (?:read|write|free).*|Conditional jump.*|"
                         r"Syscall param.*|Mismatched free.*)$", text, re.M)
    assert not invalid, f"valgrind: {invalid}\n{text[-20000:]}"
    definite = re.findall(r"definitely lost: ([\d,]+) bytes", text)
    assert definite, f"valgrind printed no leak summary:\n{text[-5000:]}"
    assert all(d == "0" for d in definite), f"definitely lost: {definite}\n{text[-20000:]}"
    summary = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    assert summary and all(n == "0" for n in summary), f"{summary}\n{text[-20000:]}"
    assert rc == 0, f"exit status {rc}:\n{service.log()}\n{text[-20000:]}"
