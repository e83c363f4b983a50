"""Hotplug through the service on real guests (TCG q35, nothing to boot): live and persistent
addresses agree, a legacy-PCI NIC with no bridge is refused with NoFreeSlot and the chain added
for the next boot, hotplug-require=no goes to pcie-root, and detach frees the slot."""

import re
import subprocess
import time
import xml.etree.ElementTree as ET

import skdaemon
from skdaemon import (SPARE_PORTS, Topology, address_map, device_address, free_ports, inactive_xml,
                      live_xml, models, nic, parse_addr)


def wait_spares(dom, count=SPARE_PORTS):
    return skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= count,
                             f">= {count} free hotplug root ports")


def virsh(*args):
    proc = subprocess.run(["virsh", "-c", skdaemon.URI, *args], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, f"virsh {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def started(dom):
    """Starts @dom once the service has given it its spares and settled."""
    wait_spares(dom)
    skdaemon.wait_stable(dom)
    dom.create()
    return dom


def test_live_config_attach_agrees_after_plain_live_attach(client, domains, workdir):
    dom = started(domains.new_q35("agree"))
    name = dom.name()

    # A plain live-only attach takes the first free port in the running guest only.
    first = nic("virtio", "52:54:00:d7:01:01")
    path = f"{workdir}/first-nic.xml"
    with open(path, "w") as f:
        f.write(first)
    virsh("attach-device", name, path, "--live")
    live0, config0 = live_xml(dom), inactive_xml(dom)
    assert device_address(live0, "52:54:00:d7:01:01") is not None
    assert device_address(config0, "52:54:00:d7:01:01") is None

    mac = "52:54:00:d7:01:02"
    device_xml, address = client.attach(name, nic("virtio", mac), live=True, config=True)
    addr = parse_addr(address)
    live1, config1 = live_xml(dom), inactive_xml(dom)
    assert device_address(live1, mac) == addr, "live address differs from the reply"
    assert device_address(config1, mac) == addr, "persistent address differs from the reply"
    assert skdaemon.pci_address(ET.fromstring(device_xml)) == addr, device_xml
    assert Topology(live1).model(addr[1]) == "pcie-root-port"
    skdaemon.assert_addresses_kept(live0, live1, "live attach")
    skdaemon.assert_addresses_kept(config0, config1, "persistent attach")
    # The spares are topped up again in the next-boot definition.
    wait_spares(dom)


def test_legacy_nic_without_bridge_refused_then_works_after_cold_boot(client, domains):
    dom = started(domains.new_q35("legacy"))
    name = dom.name()
    path = skdaemon.domain_path(dom.UUIDString())
    assert "pcie-to-pci-bridge" not in models(inactive_xml(dom))
    live0 = live_xml(dom)
    mac = "52:54:00:d7:02:01"
    rtl = nic("rtl8139", mac)

    err = client.expect_error("NoFreeSlot", client.attach, name, rtl, live=True, config=True)
    assert re.search(r"restart|shut (it )?down|cold boot|next boot|power", err.message, re.I), \
        f"the refusal does not say a restart is needed: {err.message}"
    config = inactive_xml(dom)
    assert "pcie-to-pci-bridge" in models(config), \
        f"the persistent definition has no pcie-to-pci-bridge after the refusal:\n{config}"
    assert device_address(live_xml(dom), mac) is None
    assert device_address(config, mac) is None, "the refused device was defined anyway"
    skdaemon.assert_addresses_kept(live0, live_xml(dom), "refused attach (live)")
    client.wait_property(path, "LegacyChain", lambda v: v == "next-boot")
    client.wait_property(path, "RestartPending", lambda v: v is True)

    dom.destroy()
    dom.create()
    client.wait_property(path, "LegacyChain", lambda v: v == "present")
    client.wait_property(path, "RestartPending", lambda v: v is False)
    device_xml, address = client.attach(name, rtl, live=True, config=True)
    addr = parse_addr(address)
    live1, config1 = live_xml(dom), inactive_xml(dom)
    assert Topology(live1).model(addr[1]) == "pcie-to-pci-bridge", address
    assert device_address(live1, mac) == addr
    assert device_address(config1, mac) == addr


def test_hotplug_require_no_goes_to_bus_0(client, domains):
    dom = domains.new_q35("nohotplug")
    wait_spares(dom)
    before = skdaemon.wait_stable(dom)
    ports_before = len(Topology(before).root_ports())
    macs = {"virtio": "52:54:00:d7:03:01", "e1000": "52:54:00:d7:03:02"}
    for model, mac in macs.items():
        _, address = client.attach(dom.name(), nic(model, mac), config=True,
                                   hotplug_require="no")
        assert parse_addr(address)[1] == 0, f"{model} placed at {address}, not on bus 0"
    after = skdaemon.wait_stable(dom)
    for model, mac in macs.items():
        addr = device_address(after, mac)
        assert addr is not None and addr[1] == 0, f"{model}: {addr}"
    skdaemon.assert_addresses_kept(before, after, "hotplug-require=no attach")
    assert len(Topology(after).root_ports()) == ports_before, "a port was used or added"
    assert "pcie-to-pci-bridge" not in models(after), "e1000 on bus 0 needs no bridge"
    # The requirement is remembered in slotkeeper's <metadata>.
    meta = ET.fromstring(after).find("metadata")
    assert meta is not None, "no <metadata>"
    text = ET.tostring(meta, encoding="unicode").lower()
    assert skdaemon.METADATA_NS in text
    for mac in macs.values():
        assert mac in text, f"hotplug-require=no of {mac} not recorded in <metadata>:\n{text}"


def test_detach_config_frees_the_slot(client, domains):
    dom = domains.new_q35("detach")
    wait_spares(dom)
    path = skdaemon.domain_path(dom.UUIDString())
    mac = "52:54:00:d7:04:01"
    _, address = client.attach(dom.name(), nic("virtio", mac), config=True)
    addr = parse_addr(address)
    with_dev = inactive_xml(dom)
    assert device_address(with_dev, mac) == addr
    assert addr[1] not in free_ports(with_dev)

    client.detach(dom.name(), nic("virtio", mac), config=True)
    after = skdaemon.wait_stable(dom)
    assert device_address(after, mac) is None, "the device is still defined"
    assert addr[1] in free_ports(after), "the port the device used is not free again"
    # Nothing else moved.
    old, new = address_map(with_dev), address_map(after)
    moved = {k: v for k, v in old.items() if k != ("interface", mac) and new.get(k) != v}
    assert not moved, f"detach moved {moved}"
    count = len(free_ports(after))
    client.wait_property(path, "FreeHotplugSlotsNextBoot", lambda v: v.get("pcie") == count)


def test_spare_taken_by_an_attach_is_back_within_a_second(client, domains):
    """The top-up after AttachDevice runs as soon as the reply is out: the port the device took
    is replaced in the persistent definition within a second of the reply."""
    dom = domains.new_q35("topup")
    wait_spares(dom)
    skdaemon.wait_stable(dom)
    spares = len(free_ports(inactive_xml(dom)))
    client.attach(dom.name(), nic("virtio", "52:54:00:d7:0a:01"), config=True)
    replied = time.monotonic()
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= spares, f"{spares} spares again",
                      timeout=10)
    took = time.monotonic() - replied
    assert took < 1.0, f"the spare the attach took came back after {took:.1f} s"


def test_detach_without_options_on_shut_off_domain_is_config(client, domains):
    """Neither live nor config means current: the persistent definition of a shut-off guest."""
    dom = domains.new_q35("current")
    wait_spares(dom)
    mac = "52:54:00:d7:05:01"
    _, address = client.attach(dom.name(), nic("virtio", mac))
    assert device_address(inactive_xml(dom), mac) == parse_addr(address)
    client.detach(dom.name(), nic("virtio", mac))
    assert device_address(inactive_xml(dom), mac) is None


def test_spares_exhausted_live_refused_then_replenished(client, domains):
    """With every live port used, the next live attach is refused clearly; after a cold boot
    the replenished spares take it."""
    dom = started(domains.new_q35("exhaust"))
    name = dom.name()
    n = len(free_ports(live_xml(dom)))
    assert n >= SPARE_PORTS
    for i in range(n):
        client.attach(name, nic("virtio", f"52:54:00:d7:06:{i + 1:02x}"), live=True,
                      config=True)
    assert not free_ports(live_xml(dom))
    mac = "52:54:00:d7:06:ff"
    err = client.expect_error("NoFreeSlot", client.attach, name, nic("virtio", mac),
                              live=True, config=True)
    assert re.search(r"restart|shut (it )?down|cold boot|next boot|power", err.message, re.I), \
        err.message
    wait_spares(dom)
    assert device_address(live_xml(dom), mac) is None
    dom.destroy()
    dom.create()
    _, address = client.attach(name, nic("virtio", mac), live=True, config=True)
    addr = parse_addr(address)
    assert device_address(live_xml(dom), mac) == addr
    assert device_address(inactive_xml(dom), mac) == addr


def test_transient_domain_gets_live_placement_only(client, domains, conn):
    """A transient domain is listed, unmanaged (no persistent definition to keep spares in), and
    still gets live placement; a config change is refused."""
    name = skdaemon.PREFIX + "transient"
    ports = "".join(f"<controller type='pci' index='{i}' model='pcie-root-port'/>"
                    for i in (1, 2))
    domains.names.add(name)
    dom = conn.createXML(skdaemon.q35_xml(name, extra_devices=ports), 0)
    path = skdaemon.domain_path(dom.UUIDString())
    client.wait_property(path, "State", lambda v: v == "running")
    props = client.properties(path)
    assert props["Persistent"] is False and props["Managed"] is False, props
    before = live_xml(dom)
    mac = "52:54:00:d7:07:01"
    _, address = client.attach(name, nic("virtio", mac), live=True)
    assert device_address(live_xml(dom), mac) == parse_addr(address)
    skdaemon.assert_addresses_kept(before, live_xml(dom), "transient live attach")
    client.expect_error("Failed", client.attach, name, nic("virtio", "52:54:00:d7:07:02"),
                        config=True)
    # Nothing was added behind its back: it still has exactly its two ports.
    assert len(Topology(live_xml(dom)).root_ports()) == 2
    # A transient domain that stops is gone: its object leaves the ObjectManager.
    dom.destroy()
    deadline = time.monotonic() + skdaemon.SETTLE_TIMEOUT
    while time.monotonic() < deadline and path in client.managed_objects():
        client.pump(0.2)
    assert path not in client.managed_objects(), "the stopped transient domain is still listed"


def legacy_on_root_xml(name, mac, recorded_no):
    """A q35 guest whose e1000 sits on pcie-root (as hotplug-require=no puts it), with or
    without slotkeeper's record of that requirement in <metadata>."""
    device = (f"<interface type='user'><mac address='{mac}'/><model type='e1000'/>"
              "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>"
              "</interface>")
    xml = skdaemon.q35_xml(name, extra_devices=device, policy={"legacy-bridge": "lazy"})
    if recorded_no:
        record = (f"><slotkeeper:device key='interface mac={mac}' hotplug-require='no'/>"
                  "</slotkeeper:policy></metadata>")
        xml = xml.replace("/></metadata>", record, 1)
        assert "hotplug-require='no'" in xml
    return xml


def test_lazy_chain_follows_the_recorded_requirement(domains):
    """Lazy policy: a conventional PCI device that requires hotplug makes the service keep a
    pcie-to-pci-bridge slot ready; one recorded with hotplug-require=no does not."""
    needs = domains.define(legacy_on_root_xml(skdaemon.PREFIX + "lazy-yes",
                                              "52:54:00:d7:09:01", False))
    no_need = domains.define(legacy_on_root_xml(skdaemon.PREFIX + "lazy-no",
                                                "52:54:00:d7:09:02", True))
    wait_spares(needs)
    wait_spares(no_need)
    with_chain = skdaemon.wait_xml(needs, lambda x: "pcie-to-pci-bridge" in models(x),
                                   "a pcie-to-pci-bridge for the hotplug-requiring e1000")
    without = skdaemon.wait_stable(no_need)
    assert "pcie-to-pci-bridge" not in models(without), \
        "a chain was added although the e1000 was recorded as hotplug-require=no"
    # The device itself never moves.
    assert device_address(with_chain, "52:54:00:d7:09:01") == (0, 0, 5, 0)
    assert device_address(without, "52:54:00:d7:09:02") == (0, 0, 5, 0)
