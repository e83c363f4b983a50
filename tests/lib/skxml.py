"""XML of the test domains and of the devices the tests attach. Every domain is type='qemu'
(TCG), so the suites run on any host, nested or not."""

import xml.etree.ElementTree as ET

from skoptin import metadata


def q35_xml(name, extra_devices="", policy=None, uuid=None):
    """A q35 TCG guest with no spare slots and nothing to boot (it runs SeaBIOS forever): the
    cheapest guest a live attach works on. @policy: slotkeeper metadata attributes."""
    uuid_elem = f"<uuid>{uuid}</uuid>" if uuid else ""
    return f"""<domain type='qemu'>
  <name>{name}</name>
  {uuid_elem}
  {metadata(**(policy or {}))}
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
    {extra_devices}
  </devices>
</domain>"""


def nic(model, mac, bus=None):
    """A user-mode NIC; with @bus, at slot 0 of that bus (an explicit address, as a client that
    did its own placement would send)."""
    addr = ""
    if bus is not None:
        addr = (f"<address type='pci' domain='0x0000' bus='{bus:#04x}' slot='0x00' "
                "function='0x0'/>")
    return (f"<interface type='user'><mac address='{mac}'/><model type='{model}'/>{addr}"
            "</interface>")


def virtio_disk(path, target):
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'/><target dev='{target}' bus='virtio'/></disk>")


def strip_for_redefine(xml, name):
    """A copy of a domain XML with a new name and no uuid (so it defines a new domain)."""
    root = ET.fromstring(xml)
    root.find("name").text = name
    uuid = root.find("uuid")
    if uuid is not None:
        root.remove(uuid)
    root.set("type", "qemu")
    return ET.tostring(root, encoding="unicode")
