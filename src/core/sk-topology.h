/* slotkeeper: a libvirt domain XML (inactive or live) turned into a PCI topology: controllers,
 * buses with what they accept and whether they take hotplug, and every occupied address. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "sk-machine.h"
#include "sk-pci.h"

G_BEGIN_DECLS

typedef enum {
    SK_HOTPLUG_DEFAULT,
    SK_HOTPLUG_ON,
    SK_HOTPLUG_OFF,
} SkHotplugSetting;

typedef struct {
    guint index;
    SkPciModel model;
    char *model_name;         /* <model name=...>, NULL when absent */
    int chassis;              /* <target chassis=...>, -1 when absent */
    int port;                 /* <target port=...>, -1 when absent */
    int chassis_nr;           /* <target chassisNr=...>, -1 when absent */
    int bus_nr;               /* <target busNr=...>, -1 when absent */
    SkHotplugSetting hotplug; /* <target hotplug=...> */
    gboolean has_address;
    SkPciAddr address;
    gboolean implicit; /* index 0 root not written in the XML (libvirt adds it) */
} SkController;

typedef enum {
    SK_OCCUPANT_DEVICE,
    SK_OCCUPANT_CONTROLLER,
    SK_OCCUPANT_CHIPSET, /* reserved by the chipset; no element in the XML */
} SkOccupantKind;

typedef struct {
    SkPciAddr address;
    SkOccupantKind kind;
    char *element;          /* element name ("interface"); NULL for chipset reservations */
    char *description;      /* for people: "interface virtio (52:54:00:12:34:56)" */
    guint controller_index; /* for SK_OCCUPANT_CONTROLLER */
    xmlNode *node;          /* the element in the topology's document; NULL for chipset */
} SkOccupant;

typedef struct {
    guint index;
    const SkController *controller; /* NULL: gap in controller indexes (libvirt fills it) */
    SkConnectFlags flags;           /* what it accepts; HOTPLUGGABLE fully resolved */
    guint min_slot;
    guint max_slot;
    guint8 functions[32];   /* bit f set: slot's function f is in use */
    gboolean aggregate[32]; /* slot holds root ports packed by function */
} SkBus;

typedef struct _SkTopology SkTopology;

/* Parses a domain XML document. Errors: SK_ERROR_INVALID_XML (malformed, not a <domain>),
 * SK_ERROR_NOT_SUPPORTED (no PCI machine, e.g. s390 ccw), SK_ERROR_INVALID_ADDRESS (two
 * occupants on one address, malformed addresses). */
SkTopology *sk_topology_new_from_xml(const char *xml, gsize len, GError **error);
/* The same from a parsed document, which the topology takes (also on failure). */
SkTopology *sk_topology_new_from_doc(xmlDoc *doc, GError **error);
SkTopology *sk_topology_new_from_file(const char *path, GError **error);
void sk_topology_free(SkTopology *topo);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkTopology, sk_topology_free)

/* The parsed document (owned by the topology; copy it before editing). */
xmlDoc *sk_topology_get_doc(const SkTopology *topo);
const SkMachineInfo *sk_topology_get_machine_info(const SkTopology *topo);
const char *sk_topology_get_name(const SkTopology *topo);
const char *sk_topology_get_uuid(const SkTopology *topo);
/* TRUE when the XML is a running domain's (it carries <domain id=...>). */
gboolean sk_topology_is_live(const SkTopology *topo);
/* libvirt's id of the running domain (<domain id=...>), -1 for an inactive definition. */
int sk_topology_get_id(const SkTopology *topo);
/* Marks @addr as used, as a device attached there would: the free-slot counts follow. For a
 * definition known to have changed that way, until it is read again. */
void sk_topology_occupy(SkTopology *topo, const SkPciAddr *addr);
/* <features><acpi/> present (needed for pci-root hotplug on pc). */
gboolean sk_topology_has_acpi(const SkTopology *topo);

/* PCI controllers sorted by index. */
guint sk_topology_get_n_controllers(const SkTopology *topo);
const SkController *sk_topology_get_controller(const SkTopology *topo, guint i);
/* The controller with that index, or NULL. */
const SkController *sk_topology_find_controller(const SkTopology *topo, guint index);
/* The highest controller index + 1 (buses 0..n-1; gaps have bus->controller == NULL). */
guint sk_topology_get_n_buses(const SkTopology *topo);
const SkBus *sk_topology_get_bus(const SkTopology *topo, guint index);

/* Everything holding a PCI address, sorted by address. */
guint sk_topology_get_n_occupants(const SkTopology *topo);
const SkOccupant *sk_topology_get_occupant(const SkTopology *topo, guint i);
/* The occupant at exactly @addr, or NULL. */
const SkOccupant *sk_topology_find_occupant(const SkTopology *topo, const SkPciAddr *addr);
/* Number of devices that need a PCI address but have none yet (libvirt assigns at define). */
guint sk_topology_get_n_unaddressed(const SkTopology *topo);

/* "device", "controller" or "chipset", as the CLI's JSON and the D-Bus GetSlots reply say it. */
const char *sk_occupant_kind_to_string(SkOccupantKind kind);

/* Whether the bus takes hotplug (resolved: hotplug='off', pc without ACPI, never-hotplug
 * models). */
gboolean sk_bus_is_hotpluggable(const SkBus *bus);
/* Whether slot @slot of @bus has no function in use. */
gboolean sk_bus_slot_is_empty(const SkBus *bus, guint slot);

/* Counts free hotplug-capable endpoint slots: @pcie = empty root/downstream ports,
 * @pci = free slots on hotplug-capable conventional buses (bridges; pci-root on pc). */
void sk_topology_count_free_hotplug(const SkTopology *topo, guint *pcie, guint *pci);

G_END_DECLS
