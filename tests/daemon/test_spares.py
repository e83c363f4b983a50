"""Spares at start-up and the object model: a q35 guest defined with no spare slots gets at
least 4 empty hotplug root ports in its persistent definition soon after the service starts,
nothing existing moves, and a second reconcile changes nothing; the ObjectManager lists the
domain with every documented property and signals changes."""

import time
import xml.etree.ElementTree as ET

import pytest

import skdaemon
from skdaemon import PREFIX, SPARE_PORTS, Topology, free_ports, inactive_xml

# One explicit root port holding a virtio NIC: with a PCI controller beyond index 0 in the XML,
# libvirt adds no spare port of its own (rules section 4.1e).
BARE_DEVICES = ("<controller type='pci' index='1' model='pcie-root-port'/>"
                + skdaemon.nic("virtio", "52:54:00:d7:00:01"))
RECONCILE_TIMEOUT = 30  # "within seconds of the service starting", with slack for a busy host


@pytest.fixture(scope="module")
def bare(domains, conn):
    """A q35 guest whose only device (a virtio NIC) fills the one root port libvirt adds, so no
    slot is free. Defined before the service starts when the tests run in order."""
    dom = domains.new_q35("bare", extra_devices=BARE_DEVICES)
    return dom


def test_spares_added_at_startup(bare, service):
    # The service may already have acted on the define event; start from a clean state:
    # stop it, put the spare-less definition back, start it and time it.
    service.stop()
    conn = bare.connect()
    xml = inactive_xml(bare)
    topo = Topology(xml)
    if topo.free_ports():
        conn.defineXML(skdaemon.q35_xml(bare.name(), uuid=bare.UUIDString(),
                                        extra_devices=BARE_DEVICES))
    before = inactive_xml(bare)
    assert not free_ports(before), "precondition: the test guest must start with no spares"

    started = time.monotonic()
    service.start()
    after = skdaemon.wait_xml(bare, lambda x: len(free_ports(x)) >= SPARE_PORTS,
                              f">= {SPARE_PORTS} free hotplug root ports",
                              timeout=RECONCILE_TIMEOUT)
    elapsed = time.monotonic() - started
    old, new = skdaemon.assert_addresses_kept(before, after, "start-up reconcile")
    assert set(old) <= set(new), "a device or controller disappeared"
    # Only controllers were appended.
    added = set(new) - set(old)
    assert all(k[0] == "controller" for k in added), f"non-controllers added: {added}"
    assert all(Topology(after).model(int(k[2])) == "pcie-root-port" for k in added), added
    assert elapsed < RECONCILE_TIMEOUT


def test_second_reconcile_changes_nothing(client, bare):
    settled = skdaemon.wait_stable(bare)
    assert len(free_ports(settled)) >= SPARE_PORTS
    client.reconcile(bare.name())
    client.reconcile("")
    time.sleep(2)
    assert inactive_xml(bare) == settled, "a second reconcile changed the definition"


def test_object_manager_lists_domain(client, bare):
    objects = client.managed_objects()
    path = skdaemon.domain_path(bare.UUIDString())
    assert path in objects, f"{path} not in {sorted(objects)}"
    props = objects[path].get(skdaemon.DOMAIN_IFACE)
    assert props is not None, f"{path} lacks {skdaemon.DOMAIN_IFACE}: {objects[path].keys()}"
    missing = set(skdaemon.DOMAIN_PROPERTIES) - set(props)
    assert not missing, f"properties missing: {missing}"
    assert props["Name"] == bare.name()
    assert props["UUID"] == bare.UUIDString()
    assert props["State"] == "shut-off"
    assert props["Arch"] == "x86_64"
    assert "q35" in props["Machine"]
    assert props["Persistent"] is True
    assert props["Active"] is (bare.isActive() == 1)
    assert props["Managed"] is True
    assert props["SparePorts"] == SPARE_PORTS
    assert props["LegacyBridge"] == "lazy"
    assert props["LegacyChain"] == "absent"
    assert props["RestartPending"] is False
    nb = props["FreeHotplugSlotsNextBoot"]
    assert nb.get("pcie", 0) == len(free_ports(inactive_xml(bare))), nb
    assert nb.get("pci", 0) == 0, nb
    # The Manager's own properties and GetDomain by name and by UUID.
    mgr = client.properties(skdaemon.MANAGER_PATH, skdaemon.MANAGER_IFACE)
    assert mgr["Uri"] == skdaemon.URI and mgr["Connected"] is True and mgr["Version"], mgr
    assert client.get_domain(bare.name()) == path
    assert client.get_domain(bare.UUIDString()) == path


def test_unmanaged_domains_are_listed_not_touched(client, domains, conn):
    """A domain that opts out (managed=no) is listed as unmanaged and never modified."""
    dom = domains.new_q35("optout", policy={"managed": "no"})
    path = skdaemon.domain_path(dom.UUIDString())
    before = inactive_xml(dom)
    client.wait_property(path, "Managed", lambda v: v is False)
    client.reconcile(dom.name())
    time.sleep(2)
    assert inactive_xml(dom) == before


def test_properties_changed_and_interfaces_signals(client, domains, bare):
    client.signals.clear()
    dom = domains.new_q35("signals")
    path = skdaemon.domain_path(dom.UUIDString())
    deadline = time.monotonic() + skdaemon.SETTLE_TIMEOUT

    def seen(name, pred=lambda s: True):
        return [s for s in client.signals if s[2] == name and pred(s)]

    while time.monotonic() < deadline and not seen("InterfacesAdded",
                                                   lambda s: s[3][0] == path):
        client.pump(0.2)
    assert seen("InterfacesAdded", lambda s: s[3][0] == path), \
        f"no InterfacesAdded for {path}: {client.signals}"

    # Wait for its spares, then change its policy: SparePorts must be announced.
    client.wait_property(path, "FreeHotplugSlotsNextBoot", lambda v: v.get("pcie", 0) >= 4)
    client.pump(1)
    client.signals.clear()
    client.set_policy(dom.name(), spare_ports=5)
    deadline = time.monotonic() + skdaemon.SETTLE_TIMEOUT

    def changed(prop):
        return [s for s in seen("PropertiesChanged", lambda s: s[0] == path)
                if prop in s[3][1]]

    while time.monotonic() < deadline and not (changed("SparePorts")
                                               and changed("FreeHotplugSlotsNextBoot")):
        client.pump(0.2)
    assert changed("SparePorts"), f"no PropertiesChanged(SparePorts): {client.signals}"
    assert changed("SparePorts")[-1][3][1]["SparePorts"] == 5
    assert changed("FreeHotplugSlotsNextBoot"), \
        f"no PropertiesChanged(FreeHotplugSlotsNextBoot): {client.signals}"
    assert len(free_ports(inactive_xml(dom))) >= 5

    # Undefine: InterfacesRemoved.
    client.signals.clear()
    domains.remove(dom.name())
    deadline = time.monotonic() + skdaemon.SETTLE_TIMEOUT
    while time.monotonic() < deadline and not seen("InterfacesRemoved",
                                                   lambda s: s[3][0] == path):
        client.pump(0.2)
    assert seen("InterfacesRemoved", lambda s: s[3][0] == path), \
        f"no InterfacesRemoved for {path}: {client.signals}"
    assert path not in client.managed_objects()
    assert PREFIX in dom.name()


def test_occupant_xml_names_the_device_for_detach(client, domains):
    """GetSlots gives each device's XML as libvirt shows it; DetachDevice of that XML removes
    exactly that device (a client never parses the domain XML itself)."""
    mac = "52:54:00:d7:00:42"
    dom = domains.new_q35("occxml", extra_devices=skdaemon.nic("virtio", mac))
    path = skdaemon.domain_path(dom.UUIDString())
    client.wait_property(path, "FreeHotplugSlotsNextBoot", lambda v: v.get("pcie", 0) >= 4)
    buses = client.domain(path, "GetSlots", "(a{sv})", skdaemon.opts(inactive=True),
                          reply="(aa{sv})")[0]
    xmls = [o["xml"] for b in buses for o in b["occupants"] if o["kind"] == "device"]
    nic_xml = [x for x in xmls if mac in x]
    assert len(nic_xml) == 1, xmls
    addr = skdaemon.device_address(inactive_xml(dom), mac)
    elem = ET.fromstring(nic_xml[0])
    assert skdaemon.pci_address(elem) == addr, (addr, nic_xml[0])
    assert all('<controller type="pci"' not in x for x in xmls), xmls
    before = inactive_xml(dom)
    client.detach(dom.name(), nic_xml[0], config=True)
    after = inactive_xml(dom)
    assert skdaemon.device_address(after, mac) is None
    assert len(skdaemon.address_map(after)) == len(skdaemon.address_map(before)) - 1
