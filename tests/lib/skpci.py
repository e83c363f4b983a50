"""PCI addresses and topology read from libvirt's own domain XML.

Every check the libvirt suites make reads libvirt's XML (or the guest's view), never
slotkeeper's opinion of itself: free slots, hotplug capability and addresses are recomputed here
from the XML libvirt returns after it accepted a definition, with libvirt's rules
(reference/libvirt-pci-rules.md), independently of the C planner.
"""

import re
import xml.etree.ElementTree as ET

# slotkeeper's shipped defaults (policy/slotkeeper.conf): spare root ports kept ready, and the
# per-architecture cap on root ports.
SPARE_PORTS = 4
ROOT_PORT_CAP = {"x86_64": 14, "aarch64": 28}

ADDR_RE = re.compile(r"^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$")


def parse_addr(text):
    """'0000:01:02.3' -> (0, 1, 2, 3)."""
    m = ADDR_RE.match(text or "")
    assert m, f"not a PCI address: {text!r}"
    return tuple(int(g or "0", 16) for g in m.groups())


def fmt_addr(addr):
    return "%04x:%02x:%02x.%x" % addr


def _int(value):
    return int(value, 0) if value else 0


def _root(xml):
    return ET.fromstring(xml) if isinstance(xml, str) else xml


def pci_address(elem):
    """The guest PCI address of a device element, or None (only its own <address> child)."""
    a = elem.find("address")
    if a is None or a.get("type") != "pci":
        return None
    return tuple(_int(a.get(k)) for k in ("domain", "bus", "slot", "function"))


def element_key(elem, ordinal):
    """A key naming the same device in two versions of a domain's XML."""
    tag = elem.tag
    if tag == "controller":
        # USB2 companions (ehci + uhci1-3) share one index.
        model = elem.get("model") if elem.get("type") == "usb" else None
        return (tag, elem.get("type"), elem.get("index"), model)
    if tag == "interface":
        mac = elem.find("mac")
        if mac is not None:
            return (tag, mac.get("address").lower())
    if tag == "disk":
        target = elem.find("target")
        if target is not None:
            return (tag, target.get("dev"))
    return (tag, ordinal)


def _keyed_devices(root):
    """(key, element) of every device and controller, in document order."""
    ordinals = {}
    for elem in root.find("devices"):
        ordinal = ordinals.get(elem.tag, 0)
        ordinals[elem.tag] = ordinal + 1
        yield element_key(elem, ordinal), elem


def element_keys(xml):
    """The keys of every device and controller in a domain XML."""
    return {key for key, _ in _keyed_devices(_root(xml))}


def address_map(xml):
    """{element key: PCI address} for every device and controller with a PCI address."""
    out = {}
    for key, elem in _keyed_devices(_root(xml)):
        addr = pci_address(elem)
        if addr is not None:
            assert key not in out, f"two elements named {key}"
            out[key] = addr
    return out


def assert_addresses_kept(before, after, what):
    """Every PCI address in @before is still there, unchanged, in @after."""
    old = address_map(before)
    new = address_map(after)
    moved = {k: (fmt_addr(v), fmt_addr(new[k]) if k in new else None)
             for k, v in old.items() if new.get(k) != v}
    assert not moved, f"{what}: pre-existing PCI addresses changed (old, new): {moved}"
    return old, new


def device_address(xml, mac):
    """The PCI address of the <interface> with @mac, or None."""
    return address_map(xml).get(("interface", mac.lower()))


def models(xml):
    """The models of the PCI controllers, in document order."""
    return [c.get("model") for c in _root(xml).findall("devices/controller[@type='pci']")]


class Topology:
    """The PCI buses of a domain, as libvirt's XML describes them."""

    HOTPLUG_PORTS = ("pcie-root-port", "pcie-switch-downstream-port")
    PCI_BRIDGES = ("pci-bridge", "pcie-to-pci-bridge")

    def __init__(self, xml):
        self.root = _root(xml)
        ostype = self.root.find("os/type")
        self.arch = ostype.get("arch")
        self.acpi = self.root.find("features/acpi") is not None
        self.controllers = {}
        for c in self.root.findall("devices/controller[@type='pci']"):
            self.controllers[int(c.get("index"))] = c
        self.used = set()
        for addr in address_map(self.root).values():
            self.used.add((addr[1], addr[2]))

    def model(self, index):
        c = self.controllers.get(index)
        return c.get("model") if c is not None else None

    def hotplug_off(self, index):
        t = self.controllers[index].find("target")
        return t is not None and t.get("hotplug") == "off"

    @property
    def has_pcie_root(self):
        return self.model(0) == "pcie-root"

    def root_ports(self):
        return [i for i, c in self.controllers.items() if c.get("model") == "pcie-root-port"]

    def free_ports(self):
        """Empty root/downstream ports that take hotplug."""
        return [i for i, c in sorted(self.controllers.items())
                if c.get("model") in self.HOTPLUG_PORTS and not self.hotplug_off(i)
                and (i, 0) not in self.used]

    def free_pci_slots(self):
        """Free hotplug slots for conventional PCI devices: (bus, slot)."""
        out = []
        for i, c in sorted(self.controllers.items()):
            model = c.get("model")
            if model in self.PCI_BRIDGES:
                out += [(i, s) for s in range(1, 32) if (i, s) not in self.used]
            elif model == "pci-root" and self.acpi and not self.hotplug_off(i):
                # Slot 1 is the PIIX3 chipset (ISA bridge, IDE, USB) even when not listed.
                out += [(i, s) for s in range(2, 32) if (i, s) not in self.used]
        return out

    def bus_takes_hotplug(self, bus, slot):
        model = self.model(bus)
        if model in self.HOTPLUG_PORTS:
            return slot == 0 and not self.hotplug_off(bus)
        if model in self.PCI_BRIDGES:
            return 1 <= slot <= 31
        if model == "pci-root":
            return self.acpi and not self.hotplug_off(bus) and 1 <= slot <= 31
        return False

    def controller_address(self, index):
        return pci_address(self.controllers[index])


def free_ports(xml):
    """The empty hotplug-capable ports of a domain XML (Topology.free_ports)."""
    return Topology(xml).free_ports()
