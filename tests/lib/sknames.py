"""The fixed names of slotkeeper's contract (DESIGN.md, "Fixed names"): the D-Bus names, the
polkit action and the metadata namespace that the service, its clients, the installed files and
the tests must all agree on. Written once here so that a test cannot agree with itself on a
misspelt name."""

BUS_NAME = "org.slotkeeper.SlotKeeper1"
MANAGER_PATH = "/org/slotkeeper/SlotKeeper1"
MANAGER_IFACE = "org.slotkeeper.SlotKeeper1.Manager"
DOMAIN_IFACE = "org.slotkeeper.SlotKeeper1.Domain"
ERROR_PREFIX = "org.slotkeeper.SlotKeeper1.Error."
OBJECT_MANAGER_IFACE = "org.freedesktop.DBus.ObjectManager"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
ACTION = "org.slotkeeper.SlotKeeper1.manage"
METADATA_NS = "https://slotkeeper.org/xmlns/domain/1"


def domain_path(uuid):
    """The object path of the domain with @uuid ('-' becomes '_')."""
    return f"{MANAGER_PATH}/domain/_" + uuid.replace("-", "_")
