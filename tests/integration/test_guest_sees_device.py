"""The guest's own view: a q35 TCG guest (Debian's cloud kernel + a busybox initramfs that
prints its PCI devices on the serial console whenever they change) must see a device that
slotkeeper placed appear under exactly the root port (or pcie-to-pci-bridge slot) the plan
named, and libvirt's live and persistent definitions must agree on its address.
"""

import os
import re
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import sktest
from sktest import PREFIX, Topology, address_map, fmt_addr

BOOT_TIMEOUT = 180  # TCG on a busy 2-core host; the guest usually reports in 5-15 s
HOTPLUG_TIMEOUT = 60
VIRTIO_VENDOR = "0x1af4"
REALTEK_VENDOR = "0x10ec"


@pytest.fixture(scope="module")
def guest_files():
    """vmlinuz + initrd.img, built by tests/guest/build-guest.sh and copied where QEMU (user
    libvirt-qemu) can read them whatever the permissions of the source tree."""
    script = os.path.join(sktest.SOURCE_ROOT, "tests", "guest", "build-guest.sh")
    if not sktest.have("apt-get", "dpkg-deb", "cpio") or not os.path.exists("/bin/busybox"):
        sktest.unavailable("building the test guest needs apt-get, dpkg-deb, cpio and "
                           "busybox-static")
    proc = subprocess.run([script, sktest.GUEST_CACHE], capture_output=True, text=True,
                          timeout=600)
    if proc.returncode != 0:
        sktest.unavailable(f"cannot build the test guest: {proc.stderr.strip()}")
    cache = proc.stdout.strip().splitlines()[-1]
    dest = sktest.scratch_dir("skit-guest-")
    for name in ("vmlinuz", "initrd.img"):
        shutil.copy(os.path.join(cache, name), dest)
        os.chmod(os.path.join(dest, name), 0o644)
    yield dest
    shutil.rmtree(dest, ignore_errors=True)


class SerialLog:
    """The guest's serial console (a file written by virtlogd) and its PCI device blocks."""

    BLOCK = re.compile(r"SK-PCI-BEGIN\r?\n(.*?)SK-PCI-END", re.S)
    LINE = re.compile(r"^PCI (\S+) (0x[0-9a-f]{4}) (0x[0-9a-f]{4})\s*$", re.M)

    def __init__(self, path):
        self.path = path

    def text(self):
        try:
            with open(self.path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def blocks(self):
        """Every complete device list so far: [{sysfs path: (vendor, device)}]."""
        return [{m.group(1): (m.group(2), m.group(3)) for m in self.LINE.finditer(b)}
                for b in self.BLOCK.findall(self.text())]

    def wait(self, predicate, timeout, what):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            blocks = self.blocks()
            if blocks and predicate(blocks[-1]):
                return blocks[-1]
            time.sleep(0.5)
        tail = self.text()[-3000:]
        pytest.fail(f"timed out after {timeout}s waiting for {what}; serial console:\n{tail}",
                    pytrace=False)


def guest_xml(name, files, serial):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>{files}/vmlinuz</kernel>
    <initrd>{files}/initrd.img</initrd>
    <cmdline>console=ttyS0 quiet panic=-1</cmdline>
  </os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <devices>
    <controller type='pci' model='pcie-root'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    <video><model type='none'/></video>
    <serial type='file'><source path='{serial}'/></serial>
  </devices>
</domain>"""


def sysfs_path(topo, address):
    """The guest's sysfs path of a device at libvirt @address behind a root port, or behind
    a pcie-to-pci-bridge on a root port: the regex matches the guest-assigned bus numbers."""
    bus, slot = address[1], address[2]
    model = topo.model(bus)
    if model == "pcie-root-port":
        port = topo.controller_address(bus)
        assert port[1] == 0, "root port not on pcie-root"
        return re.compile(r"^/sys/devices/pci0000:00/0000:00:%02x\.%x/0000:[0-9a-f]{2}:00\.0$"
                          % (port[2], port[3]))
    if model == "pcie-to-pci-bridge":
        bridge = topo.controller_address(bus)
        port = topo.controller_address(bridge[1])
        assert topo.model(bridge[1]) == "pcie-root-port" and port[1] == 0
        return re.compile(r"^/sys/devices/pci0000:00/0000:00:%02x\.%x/0000:[0-9a-f]{2}:00\.0/"
                          r"0000:[0-9a-f]{2}:%02x\.0$" % (port[2], port[3], slot))
    pytest.fail(f"unexpected bus model {model} for {fmt_addr(address)}")


def devices_at(block, pattern, vendor):
    return [p for p, (v, _) in block.items() if pattern.match(p) and v == vendor]


@pytest.fixture
def new_guest(conn, guests, guest_files):
    """Defines (not starts) a test guest: new_guest(suffix) -> (domain, its serial log). The
    guest is destroyed and undefined after the test, so no TCG guest outlives its test."""
    sktest.require_emulator(conn, "x86_64", "q35")
    names = []

    def make(suffix):
        names.append(PREFIX + suffix)
        serial = os.path.join(guest_files, suffix + ".log")
        if os.path.exists(serial):
            os.unlink(serial)
        return guests.define(guest_xml(names[-1], guest_files, serial)), SerialLog(serial)

    yield make
    for name in names:
        guests.remove(name)


def attach_live_config(dom, xml):
    import libvirt

    dom.attachDeviceFlags(xml, libvirt.VIR_DOMAIN_AFFECT_LIVE | libvirt.VIR_DOMAIN_AFFECT_CONFIG)


def test_virtio_nic_hotplug_seen_by_guest(new_guest, guests, sk):
    """A virtio NIC attached --live --config at the planned address of a spare root port."""
    dom, log = new_guest("guest")
    dom = guests.define(sk.reserve_xml(guests.inactive_xml(dom)))
    assert len(Topology(guests.inactive_xml(dom)).free_ports()) >= sktest.SPARE_PORTS
    dom.create()
    first = log.wait(lambda b: b, BOOT_TIMEOUT, "the guest's first PCI device list")
    assert not [p for p, (v, _) in first.items() if v == VIRTIO_VENDOR], \
        f"the guest has virtio devices before any attach: {first}"

    live, config = guests.live_xml(dom), guests.inactive_xml(dom)
    nic = sktest.nic("virtio", "52:54:00:5c:01:01")
    key = ("interface", "52:54:00:5c:01:01")
    plan, refusal = sk.plan(live, nic, "--live", "--config", config_xml=config)
    assert plan is not None, f"plan refused with spare ports present: {refusal}"
    planned = sktest.parse_addr_string(plan["address"])
    assert plan["effect"] == "now", plan
    dev_xml = sk.plan_output(live, nic, "--live", "--config", "--print-device-xml",
                             config_xml=config)
    assert sktest.pci_address(ET.fromstring(dev_xml)) == planned
    attach_live_config(dom, dev_xml)

    live_after, config_after = guests.live_xml(dom), guests.inactive_xml(dom)
    assert address_map(live_after).get(key) == planned, "live address differs from the plan"
    assert address_map(config_after).get(key) == planned, \
        "persistent address differs from the live one"
    sktest.assert_addresses_kept(live, live_after, "live attach")
    sktest.assert_addresses_kept(config, config_after, "persistent attach")

    topo = Topology(live_after)
    assert topo.model(planned[1]) == "pcie-root-port", topo.model(planned[1])
    pattern = sysfs_path(topo, planned)
    block = log.wait(lambda b: devices_at(b, pattern, VIRTIO_VENDOR), HOTPLUG_TIMEOUT,
                     f"a virtio device matching {pattern.pattern}")
    assert len(devices_at(block, pattern, VIRTIO_VENDOR)) == 1
    new = set(block) - set(first)
    assert len(new) == 1, f"expected one new PCI device in the guest, got {sorted(new)}"


def test_rtl8139_behind_new_bridge_seen_by_guest(new_guest, guests, sk):
    """rtl8139 needs a pcie-to-pci-bridge, which only a cold boot can bring: plan --config
    adds the chain and the NIC, the guest boots with it; a second rtl8139 is then hotplugged
    into the same bridge at the planned slot."""
    import libvirt

    dom, log = new_guest("guest-bridge")
    base = guests.inactive_xml(dom)
    assert not Topology(base).free_pci_slots(), "the base guest already has a bridge"

    nic1 = sktest.nic("rtl8139", "52:54:00:5c:02:01")
    plan, refusal = sk.plan(base, nic1, "--config")
    assert plan is not None, refusal
    models = [c["model"] for c in plan["controllers"]]
    assert {"pcie-root-port", "pcie-to-pci-bridge"} <= set(models), \
        f"the plan adds no bridge chain: {plan}"
    dom = guests.define(sk.plan_output(base, nic1, "--config", "--print-xml"))
    config = guests.inactive_xml(dom)
    first_addr = address_map(config).get(("interface", "52:54:00:5c:02:01"))
    assert first_addr == sktest.parse_addr_string(plan["address"]), (first_addr, models)
    topo = Topology(config)
    assert topo.model(first_addr[1]) == "pcie-to-pci-bridge", topo.model(first_addr[1])

    dom.create()
    pattern1 = sysfs_path(topo, first_addr)
    log.wait(lambda b: devices_at(b, pattern1, REALTEK_VENDOR), BOOT_TIMEOUT,
             f"the cold-plugged rtl8139 at {pattern1.pattern}")

    live, config = guests.live_xml(dom), guests.inactive_xml(dom)
    nic2 = sktest.nic("rtl8139", "52:54:00:5c:02:02")
    plan2, refusal = sk.plan(live, nic2, "--live", "--config", config_xml=config)
    assert plan2 is not None, f"no live slot on the new bridge: {refusal}"
    assert not plan2.get("controllers"), "a live attach cannot add controllers"
    second = sktest.parse_addr_string(plan2["address"])
    assert second[1] == first_addr[1], "the second rtl8139 should use the same bridge"
    dev_xml = sk.plan_output(live, nic2, "--live", "--config", "--print-device-xml",
                             config_xml=config)
    try:
        attach_live_config(dom, dev_xml)
    except libvirt.libvirtError as e:
        pytest.fail(f"libvirt refused the planned {fmt_addr(second)}: {e}")
    key2 = ("interface", "52:54:00:5c:02:02")
    assert address_map(guests.live_xml(dom)).get(key2) == second
    assert address_map(guests.inactive_xml(dom)).get(key2) == second
    pattern2 = sysfs_path(Topology(guests.live_xml(dom)), second)
    log.wait(lambda b: devices_at(b, pattern2, REALTEK_VENDOR), HOTPLUG_TIMEOUT,
             f"the hotplugged rtl8139 at {pattern2.pattern}")
