"""The guest's own view: a q35 TCG guest (Debian's cloud kernel + a busybox initramfs that
prints its PCI devices on the serial console whenever they change) must see a device that
slotkeeper placed appear under exactly the root port (or pcie-to-pci-bridge slot) the plan
named, and libvirt's live and persistent definitions must agree on its address.
"""

import os
import xml.etree.ElementTree as ET

import pytest

import sktest
from skguest import (BOOT_TIMEOUT, HOTPLUG_TIMEOUT, REALTEK_VENDOR, VIRTIO_VENDOR, SerialLog,
                     devices_at, guest_xml, sysfs_path)
from sktest import PREFIX, Topology, address_map, fmt_addr

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
