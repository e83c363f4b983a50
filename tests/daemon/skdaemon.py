"""The daemon suite's helpers: the names its tests use (skdaemon.X), taken from the shared
library in tests/lib - a private dbus-daemon (skbus), slotkeeperd on it (skservice), a D-Bus
client (skclient), test domains on the real libvirt (sklibvirt, skxml) and PCI addresses read
from libvirt's XML (skpci) - plus the name of this suite's domains, skdt-<pid>-...

What the tests check is read from libvirt (the domain XML it returns), never only from the
service's own answers.
"""

from skbus import BUS_CONFIG, PrivateBus, gio
from skclient import DOMAIN_PROPERTIES, Client, DBusFailure, opts
from sklibvirt import (SETTLE_TIMEOUT, URI, Domains, domain_prefix, inactive_xml, live_xml,
                       open_libvirt, wait_stable, wait_xml)
from sknames import (BUS_NAME, DOMAIN_IFACE, ERROR_PREFIX, MANAGER_IFACE, MANAGER_PATH,
                     METADATA_NS, OBJECT_MANAGER_IFACE, PROPERTIES_IFACE, domain_path)
from skoptin import ISOLATED, ISOLATED_CONFIG, metadata
from skpci import (SPARE_PORTS, Topology, address_map, assert_addresses_kept, device_address,
                   fmt_addr, free_ports, models, parse_addr, pci_address)
from skrequire import unavailable
from skservice import LOGS, START_TIMEOUT, STOP_TIMEOUT, Service, daemon_path, settled
from skxml import nic, q35_xml

__all__ = [
    "BUS_CONFIG", "BUS_NAME", "DOMAIN_IFACE", "DOMAIN_PROPERTIES", "ERROR_PREFIX", "ISOLATED",
    "ISOLATED_CONFIG", "LOGS", "MANAGER_IFACE", "MANAGER_PATH", "METADATA_NS",
    "OBJECT_MANAGER_IFACE", "PREFIX", "PROPERTIES_IFACE", "SETTLE_TIMEOUT", "SPARE_PORTS",
    "START_TIMEOUT", "STEM", "STOP_TIMEOUT", "URI", "Client", "DBusFailure", "Domains",
    "PrivateBus", "Service", "Topology", "address_map", "assert_addresses_kept",
    "daemon_path", "device_address", "domain_path", "fmt_addr", "free_ports", "gio",
    "inactive_xml", "live_xml", "metadata", "models", "nic", "open_libvirt", "opts",
    "parse_addr", "pci_address", "q35_xml", "settled", "unavailable", "wait_stable",
    "wait_xml",
]

# Every domain these tests define is named PREFIX... (sklibvirt.Domains).
STEM = "skdt-"
PREFIX = domain_prefix(STEM)
