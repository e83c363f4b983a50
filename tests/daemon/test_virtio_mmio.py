"""virtio-mmio guests (issue 10, item 9), on the real libvirtd through the service: an aarch64
`virt` guest whose virtio devices use virtio-mmio. libvirt gives every new virtio device without
an address virtio-mmio too, which can never be hot-unplugged; with hotplug-require=yes the
service gives it a PCI address on a hotplug-capable root port (adding one within the cap when
there is none), with hotplug-require=no it keeps libvirt's virtio-mmio."""

import xml.etree.ElementTree as ET

import pytest

import skdaemon
import sklibvirt
import skpci
from skdaemon import PREFIX, Topology, free_ports, inactive_xml, live_xml, nic, parse_addr


@pytest.fixture(scope="module", autouse=True)
def aarch64(conn):
    sklibvirt.require_emulator(conn, "aarch64", "virt")


def virt_xml(name, policy=None):
    """An aarch64 virt TCG guest (nothing to boot) whose NIC uses virtio-mmio."""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  {skdaemon.metadata(**(policy or {}))}
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='aarch64' machine='virt'>hvm</type></os>
  <cpu mode='custom' match='exact'><model fallback='allow'>cortex-a57</model></cpu>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-aarch64</emulator>
    <interface type='user'>
      <mac address='52:54:00:d7:a0:01'/>
      <model type='virtio'/>
      <address type='virtio-mmio'/>
    </interface>
  </devices>
</domain>"""


def nic_address(xml, mac):
    """The <address> of the NIC with @mac: ('pci', (d, b, s, f)) or (type, None)."""
    for i in ET.fromstring(xml).findall("devices/interface"):
        m = i.find("mac")
        if m is not None and m.get("address").lower() == mac:
            a = i.find("address")
            if a is None:
                return (None, None)
            return (a.get("type"), skpci.pci_address(i))
    raise AssertionError(f"no NIC {mac} in\n{xml}")


def plan(client, name, xml, **options):
    return client.manager("Plan", "(ssa{sv})", name, xml, skdaemon.opts(**options),
                          reply="(a{sv})")[0]


def test_require_yes_grows_a_root_port_require_no_keeps_mmio(client, domains):
    """No spares kept (spare-ports 0) and no root port at all: require=yes plans a new
    pcie-root-port and puts the NIC on it, and libvirt's XML has exactly that; require=no leaves
    the NIC to libvirt, which puts it on virtio-mmio."""
    dom = domains.define(virt_xml(PREFIX + "mmio-grow", policy={"spare-ports": 0}))
    before = skdaemon.wait_stable(dom)
    assert Topology(before).root_ports() == [], "the guest starts without root ports"
    name = dom.name()
    yes = nic("virtio", "52:54:00:d7:a0:02")

    p = plan(client, name, yes, config=True)
    assert p["ok"] and p["connection"] == "pcie", p
    assert [c["model"] for c in p["controllers"]] == ["pcie-root-port"], p
    port = p["controllers"][0]
    _, address = client.attach(name, yes, config=True)
    assert address == p["address"]
    addr = parse_addr(address)
    after = inactive_xml(dom)
    topo = Topology(after)
    assert nic_address(after, "52:54:00:d7:a0:02") == ("pci", addr), after
    assert addr[1] == port["index"] and topo.model(addr[1]) == "pcie-root-port"
    assert skpci.fmt_addr(topo.controller_address(port["index"])) == port["address"]
    assert topo.root_ports() == [port["index"]], "one root port, the plan's"
    skpci.assert_addresses_kept(before, after, "require=yes attach")
    # The first NIC stays on virtio-mmio.
    assert nic_address(after, "52:54:00:d7:a0:01")[0] == "virtio-mmio"

    no = nic("virtio", "52:54:00:d7:a0:03")
    p = plan(client, name, no, config=True, hotplug_require="no")
    assert p["ok"] and "address" not in p and p["controllers"] == [], p
    _, address = client.attach(name, no, config=True, hotplug_require="no")
    assert address == ""
    last = inactive_xml(dom)
    assert nic_address(last, "52:54:00:d7:a0:03") == ("virtio-mmio", None), last
    assert set(skpci.address_map(last)) == set(skpci.address_map(after))


def test_live_and_config_on_a_spare_root_port(client, domains):
    """A running mmio guest with the service's spares: the NIC is hot-plugged onto a root port,
    at the same PCI address in the running and the persistent definition."""
    dom = domains.define(virt_xml(PREFIX + "mmio-live"))
    skdaemon.wait_xml(dom, lambda x: len(free_ports(x)) >= skdaemon.SPARE_PORTS, "spares")
    skdaemon.wait_stable(dom)
    dom.create()
    name = dom.name()
    mac = "52:54:00:d7:a0:11"
    live0 = live_xml(dom)
    _, address = client.attach(name, nic("virtio", mac), live=True, config=True)
    addr = parse_addr(address)
    assert addr in {(0, p, 0, 0) for p in free_ports(live0)}, (address, free_ports(live0))
    assert nic_address(live_xml(dom), mac) == ("pci", addr)
    assert nic_address(inactive_xml(dom), mac) == ("pci", addr)
    assert Topology(live_xml(dom)).model(addr[1]) == "pcie-root-port"
