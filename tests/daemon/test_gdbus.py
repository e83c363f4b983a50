"""A client that knows only the introspection XML (gdbus, as a desktop VM manager would):
introspect, list the domains, read properties and attach a device."""

import re
import shutil
import subprocess

import pytest

import skdaemon
from skdaemon import MANAGER_PATH, inactive_xml, nic


@pytest.fixture(scope="module")
def gdbus(bus, service):
    if not shutil.which("gdbus"):
        skdaemon.unavailable("gdbus is not installed (libglib2.0-bin)")

    def run(*args):
        cmd = ["gdbus", *args[:1], "--address", bus.address,
               "--dest", skdaemon.BUS_NAME, *args[1:]]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr}"
        return proc.stdout

    return run


@pytest.fixture(scope="module")
def guest(domains, service):
    return skdaemon.settled(domains.new_q35("gdbus"))


def test_introspection_matches_the_interface_file(gdbus):
    out = gdbus("introspect", "--object-path", MANAGER_PATH)
    assert "interface org.slotkeeper.SlotKeeper1.Manager" in out
    assert "interface org.freedesktop.DBus.ObjectManager" in out
    for method in ("GetDomain", "AttachDevice", "DetachDevice", "Plan", "GetSlots",
                   "SetPolicy", "Reconcile"):
        assert re.search(rf"\b{method}\(", out), f"{method} not introspected:\n{out}"
    assert "signal Event(" in out or re.search(r"Event\(", out), out


def test_list_domains_and_read_properties(gdbus, guest):
    path = skdaemon.domain_path(guest.UUIDString())
    out = gdbus("call", "--object-path", MANAGER_PATH,
                "--method", "org.freedesktop.DBus.ObjectManager.GetManagedObjects")
    assert f"'{path}': {{'{skdaemon.DOMAIN_IFACE}': {{'Name': <'{guest.name()}'>" in out, out[:3000]
    out = gdbus("call", "--object-path", path, "--method", "org.freedesktop.DBus.Properties.Get",
                skdaemon.DOMAIN_IFACE, "SparePorts")
    assert re.search(r"<uint32 4>", out), out
    out = gdbus("call", "--object-path", MANAGER_PATH,
                "--method", "org.slotkeeper.SlotKeeper1.Manager.GetDomain", guest.name())
    assert path in out
    out = gdbus("introspect", "--object-path", path)
    assert "interface org.slotkeeper.SlotKeeper1.Domain" in out
    for prop in skdaemon.DOMAIN_PROPERTIES:
        assert re.search(rf"\b{prop} = ", out), f"{prop} missing from introspection:\n{out}"


def test_attach_with_gdbus_call(gdbus, guest):
    mac = "52:54:00:d7:20:01"
    out = gdbus("call", "--object-path", MANAGER_PATH,
                "--method", "org.slotkeeper.SlotKeeper1.Manager.AttachDevice",
                guest.name(), nic("virtio", mac), "{'config': <true>}")
    m = re.search(r"'(?:[0-9a-f]{4}:)?[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]'\)\s*$", out)
    assert m, f"no address at the end of the reply: {out}"
    addr = skdaemon.parse_addr(m.group(0)[1:].split("'")[0])
    assert skdaemon.device_address(inactive_xml(guest), mac) == addr


def test_domain_object_method_with_gdbus_call(gdbus, guest):
    """The same call on the Domain object, without the domain argument."""
    path = skdaemon.domain_path(guest.UUIDString())
    mac = "52:54:00:d7:20:02"
    out = gdbus("call", "--object-path", path,
                "--method", "org.slotkeeper.SlotKeeper1.Domain.AttachDevice",
                nic("virtio", mac), "{'config': <true>}")
    assert skdaemon.device_address(inactive_xml(guest), mac) is not None, out
    gdbus("call", "--object-path", path, "--method",
          "org.slotkeeper.SlotKeeper1.Domain.DetachDevice", nic("virtio", mac),
          "{'config': <true>}")
    assert skdaemon.device_address(inactive_xml(guest), mac) is None
    out = gdbus("call", "--object-path", path,
                "--method", "org.slotkeeper.SlotKeeper1.Domain.GetSlots", "{'inactive': <true>}")
    assert "pcie-root-port" in out, out[:2000]
    out = gdbus("call", "--object-path", path, "--method",
                "org.slotkeeper.SlotKeeper1.Domain.Plan", nic("virtio", "52:54:00:d7:20:03"),
                "{'config': <true>}")
    assert "'ok': <true>" in out and "'address'" in out, out
