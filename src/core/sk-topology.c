/* slotkeeper: domain XML -> PCI topology (rules sections 1.1, 4.3, 5.2 and 7). */
#include "sk-topology.h"

#include <string.h>

#include "sk-device.h"
#include "sk-error.h"
#include "sk-xml.h"

struct _SkTopology {
    xmlDoc *doc;
    char *name;
    char *uuid;
    char *arch;
    char *machine;
    SkMachineInfo info;
    gboolean live;
    int id; /* <domain id=...> of a running domain, else -1 */
    gboolean acpi;
    GPtrArray *controllers; /* SkController*, sorted by index */
    SkBus *buses;
    guint n_buses;
    GPtrArray *occupants; /* SkOccupant*, sorted by address */
    guint n_unaddressed;
    gboolean video_unaddressed; /* the primary video still waits for libvirt's address */
    gboolean ich9_sound_unaddressed;
};

static void
sk_controller_free(SkController *ctrl)
{
    g_free(ctrl->model_name);
    g_free(ctrl);
}

static void
sk_occupant_free(SkOccupant *occ)
{
    g_free(occ->element);
    g_free(occ->description);
    g_free(occ);
}

void
sk_topology_free(SkTopology *topo)
{
    if (topo == NULL)
        return;
    g_clear_pointer(&topo->doc, xmlFreeDoc);
    g_free(topo->name);
    g_free(topo->uuid);
    g_free(topo->arch);
    g_free(topo->machine);
    g_clear_pointer(&topo->controllers, g_ptr_array_unref);
    g_free(topo->buses);
    g_clear_pointer(&topo->occupants, g_ptr_array_unref);
    g_free(topo);
}

static char *
sk_node_text(xmlNode *node)
{
    xmlChar *content;
    char *text;

    if (node == NULL)
        return NULL;
    content = xmlNodeGetContent(node);
    text = g_strstrip(g_strdup((const char *)content));
    xmlFree(content);
    return text;
}

static gboolean
sk_arch_is_x86(const char *arch)
{
    return g_str_equal(arch, "x86_64") || g_str_equal(arch, "i686");
}

static gboolean
sk_topology_detect_machine(SkTopology *topo, GError **error)
{
    xmlNode *root = xmlDocGetRootElement(topo->doc);
    xmlNode *type = sk_xml_child(sk_xml_child(root, "os"), "type");
    const char *m;

    topo->arch = sk_xml_get_prop(type, "arch");
    topo->machine = sk_xml_get_prop(type, "machine");
    if (topo->arch == NULL) {
        /* libvirt fills in the host's architecture; the machine name usually tells it. */
        topo->arch = g_strdup(topo->machine && g_str_has_prefix(topo->machine, "virt") ? "aarch64"
                                                                                       : "x86_64");
    }
    if (topo->machine == NULL)
        topo->machine = g_strdup(sk_arch_is_x86(topo->arch) ? "pc" : "virt");
    m = topo->machine;

    if (g_str_has_prefix(topo->arch, "s390") || g_str_has_prefix(m, "s390")) {
        g_set_error(error, SK_ERROR, SK_ERROR_NOT_SUPPORTED,
                    "machine '%s' (%s) has no PCI bus that slotkeeper manages: s390 devices sit on "
                    "the channel subsystem (ccw), where slots need no reservation",
                    m, topo->arch);
        return FALSE;
    }
    if (sk_arch_is_x86(topo->arch) && strstr(m, "q35") != NULL)
        topo->info.kind = SK_MACHINE_Q35;
    else if (sk_arch_is_x86(topo->arch) && (g_str_equal(m, "pc") || g_str_has_prefix(m, "pc-")))
        topo->info.kind = SK_MACHINE_PC;
    else if ((g_str_equal(topo->arch, "aarch64") || g_str_equal(topo->arch, "armv7l") ||
              g_str_has_prefix(topo->arch, "riscv")) &&
             (g_str_equal(m, "virt") || g_str_has_prefix(m, "virt-")))
        topo->info.kind = SK_MACHINE_VIRT;
    else {
        g_set_error(error, SK_ERROR, SK_ERROR_NOT_SUPPORTED,
                    "machine type '%s' on %s is not supported: slotkeeper handles x86 q35 and pc "
                    "(i440fx), and aarch64/riscv virt",
                    m, topo->arch);
        return FALSE;
    }
    topo->info.arch = topo->arch;
    topo->info.machine = topo->machine;
    return TRUE;
}

static int
sk_parse_optional_int(xmlNode *node, const char *name, GError **error)
{
    g_autofree char *value = sk_xml_get_prop(node, name);
    guint parsed = 0;

    if (value == NULL)
        return -1;
    if (!sk_xml_parse_uint(value, &parsed) || parsed > 0xffff) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML, "PCI controller has an invalid %s='%s'",
                    name, value);
        return -2;
    }
    return (int)parsed;
}

static SkController *
sk_controller_parse(xmlNode *node, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *index = sk_xml_get_prop(node, "index");
    g_autofree char *model = sk_xml_get_prop(node, "model");
    g_autofree char *hotplug = NULL;
    xmlNode *target = sk_xml_child(node, "target");
    SkController *ctrl;
    gboolean has_pci = FALSE;
    guint idx = 0;

    if (index == NULL || !sk_xml_parse_uint(index, &idx) || idx > 255) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "PCI controller has %s index '%s' (expected 0..255; define the domain with "
                    "libvirt first so that it fills in indexes)",
                    index ? "an invalid" : "no", index ? index : "");
        return NULL;
    }
    if (sk_pci_model_from_string(model) == SK_PCI_MODEL_NONE) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "PCI controller index %u has unknown model '%s'", idx, model ? model : "");
        return NULL;
    }
    ctrl = g_new0(SkController, 1);
    ctrl->index = idx;
    ctrl->model = sk_pci_model_from_string(model);
    ctrl->model_name = sk_xml_get_prop(sk_xml_child(node, "model"), "name");
    ctrl->chassis = sk_parse_optional_int(target, "chassis", &local);
    if (local == NULL)
        ctrl->port = sk_parse_optional_int(target, "port", &local);
    if (local == NULL)
        ctrl->chassis_nr = sk_parse_optional_int(target, "chassisNr", &local);
    if (local == NULL)
        ctrl->bus_nr = sk_parse_optional_int(target, "busNr", &local);
    if (local == NULL && !sk_xml_get_pci_address(node, &ctrl->address, &has_pci, NULL, &local))
        g_assert(local != NULL);
    if (local != NULL) {
        sk_controller_free(ctrl);
        g_propagate_error(error, g_steal_pointer(&local));
        return NULL;
    }
    ctrl->has_address = has_pci;
    hotplug = sk_xml_get_prop(target, "hotplug");
    if (hotplug != NULL)
        ctrl->hotplug = g_str_equal(hotplug, "off") ? SK_HOTPLUG_OFF : SK_HOTPLUG_ON;
    return ctrl;
}

static gint
sk_controller_compare(gconstpointer a, gconstpointer b)
{
    const SkController *ca = *(SkController *const *)a;
    const SkController *cb = *(SkController *const *)b;

    return (ca->index > cb->index) - (ca->index < cb->index);
}

static gboolean
sk_topology_parse_controllers(SkTopology *topo, xmlNode *devices, GError **error)
{
    gboolean pcie_machine = topo->info.kind != SK_MACHINE_PC;

    topo->controllers = g_ptr_array_new_with_free_func((GDestroyNotify)sk_controller_free);
    for (xmlNode *cur = devices ? devices->children : NULL; cur; cur = cur->next) {
        g_autofree char *type = NULL;
        SkController *ctrl;

        if (cur->type != XML_ELEMENT_NODE || !g_str_equal((const char *)cur->name, "controller"))
            continue;
        type = sk_xml_get_prop(cur, "type");
        if (type == NULL || !g_str_equal(type, "pci"))
            continue;
        ctrl = sk_controller_parse(cur, error);
        if (ctrl == NULL)
            return FALSE;
        g_ptr_array_add(topo->controllers, ctrl);
    }
    g_ptr_array_sort(topo->controllers, sk_controller_compare);
    for (guint i = 1; i < topo->controllers->len; i++) {
        const SkController *prev = topo->controllers->pdata[i - 1];
        const SkController *ctrl = topo->controllers->pdata[i];

        if (prev->index == ctrl->index) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                        "Multiple 'pci' controllers with index '%u'", ctrl->index);
            return FALSE;
        }
    }
    if (topo->controllers->len == 0 || ((SkController *)topo->controllers->pdata[0])->index != 0) {
        /* libvirt adds the root itself (qemuDomainDefAddDefaultDevices). */
        SkController *root = g_new0(SkController, 1);

        root->model = pcie_machine ? SK_PCI_MODEL_PCIE_ROOT : SK_PCI_MODEL_PCI_ROOT;
        root->chassis = root->port = root->chassis_nr = root->bus_nr = -1;
        root->implicit = TRUE;
        g_ptr_array_insert(topo->controllers, 0, root);
    } else {
        const SkController *root = topo->controllers->pdata[0];
        SkPciModel want = pcie_machine ? SK_PCI_MODEL_PCIE_ROOT : SK_PCI_MODEL_PCI_ROOT;

        if (root->model != want) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                        "PCI controller index 0 is '%s', but machine '%s' needs '%s'",
                        sk_pci_model_to_string(root->model), topo->machine,
                        sk_pci_model_to_string(want));
            return FALSE;
        }
    }
    topo->info.has_pcie_root = pcie_machine;
    return TRUE;
}

static void
sk_topology_build_buses(SkTopology *topo)
{
    const SkController *last = g_ptr_array_index(topo->controllers, topo->controllers->len - 1);

    topo->n_buses = last->index + 1;
    topo->buses = g_new0(SkBus, topo->n_buses);
    for (guint i = 0; i < topo->n_buses; i++)
        topo->buses[i].index = i;
    for (guint i = 0; i < topo->controllers->len; i++) {
        const SkController *ctrl = topo->controllers->pdata[i];
        SkBus *bus = &topo->buses[ctrl->index];

        bus->controller = ctrl;
        bus->flags = sk_pci_model_bus_flags(ctrl->model);
        sk_pci_model_slot_range(ctrl->model, &bus->min_slot, &bus->max_slot);
        if (ctrl->hotplug == SK_HOTPLUG_OFF && sk_pci_model_accepts_hotplug_option(ctrl->model))
            bus->flags &= ~SK_CONNECT_HOTPLUGGABLE;
        /* pci-root hotplug is ACPI-based: QEMU refuses it without <acpi/>. libvirt 9.0 also
         * ignores pci-root's hotplug='off' (rules 5.2); we honour it. */
        if (ctrl->model == SK_PCI_MODEL_PCI_ROOT && !topo->acpi)
            bus->flags &= ~SK_CONNECT_HOTPLUGGABLE;
    }
}

static void
sk_topology_add_occupant(SkTopology *topo, const SkPciAddr *addr, SkOccupantKind kind,
                         xmlNode *node, char *description, guint controller_index)
{
    SkOccupant *occ = g_new0(SkOccupant, 1);

    occ->node = node;
    occ->address = *addr;
    occ->kind = kind;
    occ->element = node ? g_strdup((const char *)node->name) : NULL;
    occ->description = description;
    occ->controller_index = controller_index;
    g_ptr_array_add(topo->occupants, occ);
}

static gboolean
sk_topology_is_virtio_mmio(xmlNode *devices)
{
    for (xmlNode *cur = devices ? devices->children : NULL; cur; cur = cur->next) {
        xmlNode *anode = sk_xml_child(cur, "address");
        g_autofree char *type = sk_xml_get_prop(anode, "type");

        if (type != NULL && g_str_equal(type, "virtio-mmio"))
            return TRUE;
    }
    return FALSE;
}

static char *
sk_topology_describe_element(xmlNode *node, const SkMachineInfo *info, SkConnectFlags *flags,
                             gboolean *other_address)
{
    g_autoptr(SkDevice) dev = sk_device_classify(node, info, NULL);

    if (dev == NULL) {
        /* An element this slotkeeper does not know still occupies its address. */
        *flags = 0;
        *other_address = FALSE;
        return g_strdup((const char *)node->name);
    }
    *flags = dev->flags;
    *other_address = dev->has_other_address;
    return g_strdup(dev->description);
}

/* Remembers the devices that libvirt gives a preferred chipset address at define time
 * (rules 4.3), so that plans leave those slots to them. */
static void
sk_topology_note_unaddressed(SkTopology *topo, xmlNode *node, gboolean first_video)
{
    const char *name = (const char *)node->name;

    topo->n_unaddressed++;
    if (first_video)
        topo->video_unaddressed = TRUE;
    if (g_str_equal(name, "sound")) {
        g_autofree char *model = sk_xml_get_prop(node, "model");

        if (model != NULL && g_str_equal(model, "ich9"))
            topo->ich9_sound_unaddressed = TRUE;
    }
}

static gboolean
sk_topology_parse_occupants(SkTopology *topo, xmlNode *devices, GError **error)
{
    gboolean seen_video = FALSE;

    topo->occupants = g_ptr_array_new_with_free_func((GDestroyNotify)sk_occupant_free);
    for (xmlNode *cur = devices ? devices->children : NULL; cur; cur = cur->next) {
        g_autofree char *type = NULL;
        g_autofree char *description = NULL;
        SkConnectFlags flags = 0;
        gboolean has_pci = FALSE, other = FALSE, first_video = FALSE;
        SkPciAddr addr = { 0 };

        if (cur->type != XML_ELEMENT_NODE)
            continue;
        if (!sk_xml_get_pci_address(cur, &addr, &has_pci, NULL, error))
            return FALSE;
        type = sk_xml_get_prop(cur, "type");
        if (g_str_equal((const char *)cur->name, "controller") && type != NULL &&
            g_str_equal(type, "pci")) {
            g_autofree char *index = sk_xml_get_prop(cur, "index");
            g_autofree char *model = sk_xml_get_prop(cur, "model");
            guint idx = 0;

            if (!has_pci)
                continue;
            sk_xml_parse_uint(index, &idx);
            sk_topology_add_occupant(topo, &addr, SK_OCCUPANT_CONTROLLER, cur,
                                     g_strdup_printf("%s (index %u)", model, idx), idx);
            continue;
        }
        if (g_str_equal((const char *)cur->name, "video")) {
            first_video = !seen_video;
            seen_video = TRUE;
        }
        description = sk_topology_describe_element(cur, &topo->info, &flags, &other);
        if (has_pci)
            sk_topology_add_occupant(topo, &addr, SK_OCCUPANT_DEVICE, cur,
                                     g_steal_pointer(&description), 0);
        else if (flags != 0 && !other)
            sk_topology_note_unaddressed(topo, cur, first_video);
    }
    return TRUE;
}

static const SkOccupant *
sk_topology_find_at(GPtrArray *occupants, const SkPciAddr *addr)
{
    for (guint i = 0; i < occupants->len; i++) {
        const SkOccupant *occ = occupants->pdata[i];

        if (sk_pci_addr_equal(&occ->address, addr))
            return occ;
    }
    return NULL;
}

/* Preferred addresses apply only while the device waiting for them has no address yet. */
enum {
    SK_PREFERRED_VIDEO = 1,
    SK_PREFERRED_ICH9_SOUND,
};

static void
sk_topology_reserve_chipset(SkTopology *topo)
{
    static const struct {
        SkMachineKind kind;
        guint slot;
        guint function;
        int needs;
        const char *what;
    } reserved[] = {
        /* qemuDomainValidateDevicePCISlotsQ35 / ...PIIX3 (rules 4.3). */
        { SK_MACHINE_Q35, 0x1f, 0, 0, "chipset: ICH9 LPC/ISA bridge" },
        { SK_MACHINE_Q35, 0x1f, 2, 0, "chipset: ICH9 SATA controller" },
        { SK_MACHINE_Q35, 0x1f, 3, 0, "chipset: ICH9 SMBus" },
        { SK_MACHINE_Q35, 0x01, 0, SK_PREFERRED_VIDEO, "reserved for the primary video" },
        { SK_MACHINE_Q35, 0x1b, 0, SK_PREFERRED_ICH9_SOUND, "reserved for the ich9 sound" },
        { SK_MACHINE_PC, 0x01, 0, 0, "chipset: PIIX3 ISA bridge" },
        { SK_MACHINE_PC, 0x01, 1, 0, "chipset: PIIX3 IDE controller" },
        { SK_MACHINE_PC, 0x01, 3, 0, "chipset: PIIX4 ACPI/SMBus" },
        { SK_MACHINE_PC, 0x02, 0, SK_PREFERRED_VIDEO, "reserved for the primary video" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(reserved); i++) {
        SkPciAddr addr = { 0, 0, reserved[i].slot, reserved[i].function };

        if (reserved[i].needs == SK_PREFERRED_VIDEO && !topo->video_unaddressed)
            continue;
        if (reserved[i].needs == SK_PREFERRED_ICH9_SOUND && !topo->ich9_sound_unaddressed)
            continue;
        if (reserved[i].kind != topo->info.kind ||
            sk_topology_find_at(topo->occupants, &addr) != NULL)
            continue;
        sk_topology_add_occupant(topo, &addr, SK_OCCUPANT_CHIPSET, NULL, g_strdup(reserved[i].what),
                                 0);
    }
}

static gint
sk_occupant_compare(gconstpointer a, gconstpointer b)
{
    const SkOccupant *oa = *(SkOccupant *const *)a;
    const SkOccupant *ob = *(SkOccupant *const *)b;
    guint ka = (oa->address.domain << 16) | (oa->address.bus << 8) | (oa->address.slot << 3) |
               oa->address.function;
    guint kb = (ob->address.domain << 16) | (ob->address.bus << 8) | (ob->address.slot << 3) |
               ob->address.function;

    return (ka > kb) - (ka < kb);
}

static gboolean
sk_topology_mark_buses(SkTopology *topo, GError **error)
{
    g_autofree guint8 *other = g_new0(guint8, (gsize)topo->n_buses * 32);

    g_ptr_array_sort(topo->occupants, sk_occupant_compare);
    for (guint i = 0; i < topo->occupants->len; i++) {
        const SkOccupant *occ = topo->occupants->pdata[i];
        const SkPciAddr *a = &occ->address;
        gboolean root_port = FALSE;
        SkBus *bus;

        if (i > 0 &&
            sk_pci_addr_equal(a, &((SkOccupant *)topo->occupants->pdata[i - 1])->address)) {
            const SkOccupant *prev = topo->occupants->pdata[i - 1];
            g_autofree char *text = sk_pci_addr_format(a);

            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "Attempted double use of PCI Address %s (%s and %s)", text,
                        prev->description, occ->description);
            return FALSE;
        }
        if (a->domain != 0 || a->bus >= topo->n_buses)
            continue; /* libvirt would add the missing buses at define time */
        bus = &topo->buses[a->bus];
        bus->functions[a->slot] |= (guint8)(1u << a->function);
        if (occ->kind == SK_OCCUPANT_CONTROLLER) {
            const SkController *ctrl = sk_topology_find_controller(topo, occ->controller_index);

            root_port = ctrl != NULL && ctrl->model == SK_PCI_MODEL_PCIE_ROOT_PORT;
        }
        if (!root_port)
            other[a->bus * 32 + a->slot] = 1;
    }
    /* A slot whose functions are all root ports takes more of them (AGGREGATE_SLOT). */
    for (guint b = 0; b < topo->n_buses; b++) {
        for (guint s = 0; s < 32; s++) {
            topo->buses[b].aggregate[s] =
                topo->buses[b].functions[s] != 0 && other[b * 32 + s] == 0;
        }
    }
    return TRUE;
}

SkTopology *
sk_topology_new_from_doc(xmlDoc *doc, GError **error)
{
    g_autoptr(SkTopology) topo = g_new0(SkTopology, 1);
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *devices;
    g_autofree char *id = NULL;
    guint id_value = 0;

    topo->doc = doc;
    if (!g_str_equal((const char *)root->name, "domain")) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "not a libvirt domain XML: the root element is <%s>, expected <domain>",
                    (const char *)root->name);
        return NULL;
    }
    topo->name = sk_node_text(sk_xml_child(root, "name"));
    topo->uuid = sk_node_text(sk_xml_child(root, "uuid"));
    id = sk_xml_get_prop(root, "id");
    topo->live = id != NULL && sk_xml_parse_uint(id, &id_value);
    topo->id = topo->live ? (int)id_value : -1;
    topo->acpi = sk_xml_child(sk_xml_child(root, "features"), "acpi") != NULL;
    if (!sk_topology_detect_machine(topo, error))
        return NULL;
    devices = sk_xml_child(root, "devices");
    if (!sk_topology_parse_controllers(topo, devices, error))
        return NULL;
    topo->info.virtio_mmio =
        topo->info.kind == SK_MACHINE_VIRT && sk_topology_is_virtio_mmio(devices);
    sk_topology_build_buses(topo);
    if (!sk_topology_parse_occupants(topo, devices, error))
        return NULL;
    sk_topology_reserve_chipset(topo);
    if (!sk_topology_mark_buses(topo, error))
        return NULL;
    return g_steal_pointer(&topo);
}

SkTopology *
sk_topology_new_from_xml(const char *xml, gsize len, GError **error)
{
    xmlDoc *doc = sk_xml_parse(xml, len, "domain XML", error);

    if (doc == NULL)
        return NULL;
    return sk_topology_new_from_doc(doc, error);
}

SkTopology *
sk_topology_new_from_file(const char *path, GError **error)
{
    xmlDoc *doc = sk_xml_parse_file(path, "domain XML", error);

    if (doc == NULL)
        return NULL;
    return sk_topology_new_from_doc(doc, error);
}

xmlDoc *
sk_topology_get_doc(const SkTopology *topo)
{
    return topo->doc;
}

const SkMachineInfo *
sk_topology_get_machine_info(const SkTopology *topo)
{
    return &topo->info;
}

const char *
sk_topology_get_name(const SkTopology *topo)
{
    return topo->name;
}

const char *
sk_topology_get_uuid(const SkTopology *topo)
{
    return topo->uuid;
}

gboolean
sk_topology_is_live(const SkTopology *topo)
{
    return topo->live;
}

int
sk_topology_get_id(const SkTopology *topo)
{
    return topo->id;
}

void
sk_topology_occupy(SkTopology *topo, const SkPciAddr *addr)
{
    if (addr->bus < topo->n_buses && addr->slot < 32 && addr->function < 8)
        topo->buses[addr->bus].functions[addr->slot] |= (guint8)(1u << addr->function);
}

gboolean
sk_topology_has_acpi(const SkTopology *topo)
{
    return topo->acpi;
}

guint
sk_topology_get_n_controllers(const SkTopology *topo)
{
    return topo->controllers->len;
}

const SkController *
sk_topology_get_controller(const SkTopology *topo, guint i)
{
    g_return_val_if_fail(i < topo->controllers->len, NULL);
    return topo->controllers->pdata[i];
}

const SkController *
sk_topology_find_controller(const SkTopology *topo, guint index)
{
    if (index >= topo->n_buses)
        return NULL;
    return topo->buses[index].controller;
}

guint
sk_topology_get_n_buses(const SkTopology *topo)
{
    return topo->n_buses;
}

const SkBus *
sk_topology_get_bus(const SkTopology *topo, guint index)
{
    if (index >= topo->n_buses)
        return NULL;
    return &topo->buses[index];
}

guint
sk_topology_get_n_occupants(const SkTopology *topo)
{
    return topo->occupants->len;
}

const SkOccupant *
sk_topology_get_occupant(const SkTopology *topo, guint i)
{
    g_return_val_if_fail(i < topo->occupants->len, NULL);
    return topo->occupants->pdata[i];
}

const SkOccupant *
sk_topology_find_occupant(const SkTopology *topo, const SkPciAddr *addr)
{
    return sk_topology_find_at(topo->occupants, addr);
}

guint
sk_topology_get_n_unaddressed(const SkTopology *topo)
{
    return topo->n_unaddressed;
}

const char *
sk_occupant_kind_to_string(SkOccupantKind kind)
{
    switch (kind) {
    case SK_OCCUPANT_CONTROLLER:
        return "controller";
    case SK_OCCUPANT_CHIPSET:
        return "chipset";
    case SK_OCCUPANT_DEVICE:
    default:
        return "device";
    }
}

gboolean
sk_bus_is_hotpluggable(const SkBus *bus)
{
    return bus->controller != NULL && (bus->flags & SK_CONNECT_HOTPLUGGABLE) != 0;
}

gboolean
sk_bus_slot_is_empty(const SkBus *bus, guint slot)
{
    return slot < 32 && bus->functions[slot] == 0;
}

void
sk_topology_count_free_hotplug(const SkTopology *topo, guint *pcie, guint *pci)
{
    *pcie = 0;
    *pci = 0;
    for (guint i = 0; i < topo->n_buses; i++) {
        const SkBus *bus = &topo->buses[i];

        if (!sk_bus_is_hotpluggable(bus))
            continue;
        for (guint s = bus->min_slot; s <= bus->max_slot; s++) {
            if (!sk_bus_slot_is_empty(bus, s))
                continue;
            if (bus->flags & SK_CONNECT_PCIE_DEVICE)
                (*pcie)++;
            else if (bus->flags & SK_CONNECT_PCI_DEVICE)
                (*pci)++;
        }
    }
}
