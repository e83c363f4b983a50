/* Unit tests for sk-edit: applying a plan adds exactly the plan's controllers and the device,
 * writes them the way libvirt accepts them, and leaves everything else as it was. */
#include <glib.h>
#include <libxml/tree.h>
#include <string.h>

#include "sk-device.h"
#include "sk-edit.h"
#include "sk-error.h"
#include "sk-pci.h"
#include "sk-planner.h"
#include "sk-topology.h"
#include "sk-xml.h"
#include "test-common.h"

/* ---- XML helpers ---------------------------------------------------------------------------- */

static xmlNode *
child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    }
    return NULL;
}

static char *
prop(xmlNode *node, const char *name)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    char *s = g_strdup((const char *)v);

    xmlFree(v);
    return s;
}

static gint64
num(xmlNode *node, const char *name)
{
    g_autofree char *v = prop(node, name);

    g_assert(v != NULL);
    return (gint64)g_ascii_strtoll(v, NULL, 0);
}

static gboolean
is_pci_controller(xmlNode *node)
{
    g_autofree char *type = NULL;

    if (!g_str_equal((const char *)node->name, "controller"))
        return FALSE;
    type = prop(node, "type");
    return g_strcmp0(type, "pci") == 0;
}

/* A node serialised with the whitespace between tags removed. */
static char *
node_text(xmlDoc *doc, xmlNode *node)
{
    xmlBuffer *buf = xmlBufferCreate();
    g_autoptr(GRegex) re = g_regex_new(">\\s+<", 0, 0, NULL);
    char *out;

    xmlNodeDump(buf, doc, node, 0, 0);
    out = g_regex_replace_literal(re, (const char *)xmlBufferContent(buf), -1, 0, "><", 0, NULL);
    xmlBufferFree(buf);
    return g_strstrip(out);
}

/* The element children of <devices>, serialised. */
static GPtrArray *
device_texts(xmlDoc *doc, GPtrArray **nodes)
{
    xmlNode *devices = child(xmlDocGetRootElement(doc), "devices");
    GPtrArray *texts = g_ptr_array_new_with_free_func(g_free);

    g_assert(devices != NULL);
    if (nodes != NULL)
        *nodes = g_ptr_array_new();
    for (xmlNode *c = devices->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        g_ptr_array_add(texts, node_text(doc, c));
        if (nodes != NULL)
            g_ptr_array_add(*nodes, c);
    }
    return texts;
}

/* The whole document without <devices>, serialised. */
static char *
outside_devices(xmlDoc *doc)
{
    g_autoptr(xmlDoc) copy = xmlCopyDoc(doc, 1);
    xmlNode *devices = child(xmlDocGetRootElement(copy), "devices");

    xmlUnlinkNode(devices);
    xmlFreeNode(devices);
    return node_text(copy, xmlDocGetRootElement(copy));
}

/* With SK_TEST_DUMP_DIR set, results that add controllers are written there for checking by
 * hand with `virsh define`. */
static void
dump_result(const SkTopology *topo, const SkPlan *plan, const char *xml)
{
    static guint counter;
    const char *dir = g_getenv("SK_TEST_DUMP_DIR");
    g_autofree char *base = NULL;
    g_autofree char *path = NULL;

    if (dir == NULL || plan->controllers->len == 0)
        return;
    base = g_strdup_printf("edit-%03u-%s.xml", ++counter, sk_topology_get_name(topo));
    path = g_build_filename(dir, base, NULL);
    g_assert_true(g_file_set_contents(path, xml, -1, NULL));
}

/* ---- the checks ----------------------------------------------------------------------------- */

static void
check_controller_node(xmlNode *node, const SkNewController *c)
{
    g_autofree char *type = prop(node, "type");
    g_autofree char *model = prop(node, "model");
    xmlNode *mn = child(node, "model");
    xmlNode *target = child(node, "target");
    xmlNode *addr = child(node, "address");
    g_autofree char *name = NULL;
    g_autofree char *addr_type = NULL;

    g_assert_cmpstr((const char *)node->name, ==, "controller");
    g_assert_cmpstr(type, ==, "pci");
    g_assert_cmpint(num(node, "index"), ==, c->index);
    g_assert_cmpstr(model, ==, sk_pci_model_to_string(c->model));
    g_assert(mn != NULL);
    name = prop(mn, "name");
    g_assert_cmpstr(name, ==, c->model_name);
    if (c->chassis >= 0 || c->port >= 0) {
        g_assert(target != NULL);
        g_assert_cmpint(num(target, "chassis"), ==, c->chassis);
        g_assert_cmpint(num(target, "port"), ==, c->port);
    }
    if (c->chassis_nr >= 0) {
        g_assert(target != NULL);
        g_assert_cmpint(num(target, "chassisNr"), ==, c->chassis_nr);
    }
    if (target != NULL) {
        /* Options other models reject (rules table 1.1) must not appear. */
        g_autofree char *hotplug = prop(target, "hotplug");

        g_assert_null(hotplug);
        if (c->model != SK_PCI_MODEL_PCIE_ROOT_PORT &&
            c->model != SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT) {
            g_autofree char *chassis = prop(target, "chassis");
            g_autofree char *port = prop(target, "port");

            g_assert_null(chassis);
            g_assert_null(port);
        }
    }
    g_assert(addr != NULL);
    addr_type = prop(addr, "type");
    g_assert_cmpstr(addr_type, ==, "pci");
    g_assert_cmpint(num(addr, "domain"), ==, 0);
    g_assert_cmpint(num(addr, "bus"), ==, c->address.bus);
    g_assert_cmpint(num(addr, "slot"), ==, c->address.slot);
    g_assert_cmpint(num(addr, "function"), ==, c->address.function);
}

/* Applies @plan/@dev to @topo's document and checks that exactly the plan's controllers (after
 * the last existing controller) and the device were added, and nothing else changed. */
static void
check_apply(const SkTopology *topo, const SkPlan *plan, const SkDevice *dev)
{
    xmlDoc *orig = sk_topology_get_doc(topo);
    g_autofree char *orig_before = sk_xml_doc_to_string(orig);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) out = sk_edit_apply_plan(orig, plan, dev, &error);
    g_autoptr(GPtrArray) before = NULL;
    g_autoptr(GPtrArray) after = NULL;
    g_autoptr(GPtrArray) after_nodes = NULL;
    g_autoptr(GPtrArray) added = g_ptr_array_new();
    g_autofree char *outside_a = NULL;
    g_autofree char *outside_b = NULL;
    g_autofree char *orig_after = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(SkTopology) reparsed = NULL;
    guint n_added_ctrl = 0, n_added_dev = 0, n_added_comp = 0, n_config_comp = 0, j = 0;
    guint n_added_comp_pci = 0;
    int last_old_ctrl = -1, first_new_ctrl = -1;

    g_assert_no_error(error);
    g_assert(out != NULL);
    g_assert_true(out != orig);

    /* The input document is untouched. */
    orig_after = sk_xml_doc_to_string(orig);
    g_assert_cmpstr(orig_before, ==, orig_after);

    /* Outside <devices>: identical. */
    outside_a = outside_devices(orig);
    outside_b = outside_devices(out);
    g_assert_cmpstr(outside_a, ==, outside_b);

    /* Inside: the old elements, unchanged and in order, plus the additions. */
    before = device_texts(orig, NULL);
    after = device_texts(out, &after_nodes);
    for (guint i = 0; i < after->len; i++) {
        xmlNode *node = after_nodes->pdata[i];

        if (j < before->len && g_str_equal(after->pdata[i], before->pdata[j])) {
            if (g_str_equal((const char *)node->name, "controller"))
                last_old_ctrl = (int)i;
            j++;
            continue;
        }
        g_ptr_array_add(added, node);
        if (is_pci_controller(node)) {
            const SkNewController *c = NULL;
            gint64 index = num(node, "index");

            for (guint k = 0; k < plan->controllers->len; k++) {
                const SkNewController *cand = plan->controllers->pdata[k];

                if (cand->index == index)
                    c = cand;
            }
            g_assert(c != NULL);
            check_controller_node(node, c);
            n_added_ctrl++;
            if (first_new_ctrl < 0)
                first_new_ctrl = (int)i;
        } else if (g_str_equal((const char *)node->name, "controller") &&
                   (dev == NULL || !g_str_equal(dev->element, "controller"))) {
            /* A companion: right after the controllers, with its planned address. */
            const SkCompanion *c = NULL;
            g_autofree char *type = prop(node, "type");
            xmlNode *addr = child(node, "address");

            for (guint k = 0; k < plan->companions->len; k++) {
                const SkCompanion *cand = plan->companions->pdata[k];

                if (cand->index == num(node, "index") && g_str_equal(cand->type, type))
                    c = cand;
            }
            g_assert(c != NULL);
            g_assert_true(c->config);
            g_assert_cmpint((int)i, ==,
                            first_new_ctrl >= 0
                                ? first_new_ctrl + (int)n_added_ctrl + (int)n_added_comp
                                : last_old_ctrl + 1 + (int)n_added_comp);
            if (c->has_address) {
                g_assert(addr != NULL);
                g_assert_cmpint(num(addr, "bus"), ==, c->address.bus);
                g_assert_cmpint(num(addr, "slot"), ==, c->address.slot);
            } else {
                g_assert(addr == NULL);
            }
            n_added_comp++;
        } else {
            n_added_dev++;
        }
    }
    for (guint k = 0; plan->companions != NULL && k < plan->companions->len; k++)
        n_config_comp += ((const SkCompanion *)plan->companions->pdata[k])->config ? 1 : 0;
    g_assert_cmpuint(j, ==, before->len);
    g_assert_cmpuint(n_added_comp, ==, n_config_comp);
    g_assert_cmpuint(n_added_ctrl, ==, plan->controllers->len);
    g_assert_cmpuint(n_added_dev, ==, dev != NULL ? 1 : 0);
    g_assert_cmpuint(after->len, ==, before->len + added->len);
    /* New controllers sit right after the last existing one, together. */
    if (n_added_ctrl > 0) {
        g_assert_cmpint(first_new_ctrl, ==, last_old_ctrl + 1);
        for (guint k = 0; k < n_added_ctrl; k++) {
            xmlNode *node = after_nodes->pdata[first_new_ctrl + k];
            g_autofree char *type = prop(node, "type");

            g_assert_cmpstr((const char *)node->name, ==, "controller");
            g_assert_cmpstr(type, ==, "pci");
        }
    }

    /* The device: its own content, with the plan's address. */
    if (dev != NULL) {
        xmlNode *node = NULL;
        xmlNode *addr;
        xmlNode *mac_src = child(dev->node, "mac");

        for (guint k = 0; k < added->len; k++) {
            xmlNode *cand = added->pdata[k];

            if (g_str_equal((const char *)cand->name, dev->element) && !is_pci_controller(cand))
                node = cand;
        }
        g_assert(node != NULL);
        if (mac_src != NULL) {
            g_autofree char *want = prop(mac_src, "address");
            g_autofree char *got = NULL;

            g_assert(child(node, "mac") != NULL);
            got = prop(child(node, "mac"), "address");
            g_assert_cmpstr(got, ==, want);
        }
        addr = child(node, "address");
        if (plan->has_address) {
            g_autofree char *type = NULL;
            guint n_addr = 0;

            g_assert(addr != NULL);
            type = prop(addr, "type");
            g_assert_cmpstr(type, ==, "pci");
            g_assert_cmpint(num(addr, "bus"), ==, plan->address.bus);
            g_assert_cmpint(num(addr, "slot"), ==, plan->address.slot);
            g_assert_cmpint(num(addr, "function"), ==, plan->address.function);
            for (xmlNode *c = node->children; c != NULL; c = c->next)
                n_addr +=
                    c->type == XML_ELEMENT_NODE && g_str_equal((const char *)c->name, "address");
            g_assert_cmpuint(n_addr, ==, 1);
        } else if (plan->has_drive_address) {
            g_autofree char *type = NULL;

            g_assert(addr != NULL);
            type = prop(addr, "type");
            g_assert_cmpstr(type, ==, "drive");
            g_assert_cmpint(num(addr, "controller"), ==, plan->drive_address.controller);
            g_assert_cmpint(num(addr, "unit"), ==, plan->drive_address.unit);
        }
    }

    /* The result parses, and every old occupant and controller stayed put. */
    xml = sk_xml_doc_to_string(out);
    dump_result(topo, plan, xml);
    reparsed = sk_topology_new_from_xml(xml, strlen(xml), &error);
    g_assert_no_error(error);
    g_assert(reparsed != NULL);
    for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++) {
        const SkOccupant *a = sk_topology_get_occupant(topo, i);
        const SkOccupant *b = sk_topology_find_occupant(reparsed, &a->address);

        g_assert(b != NULL);
        g_assert_cmpint(a->kind, ==, b->kind);
        g_assert_cmpstr(a->element, ==, b->element);
        g_assert_cmpstr(a->description, ==, b->description);
    }
    /* Companions with an address occupy it too. */
    for (guint k = 0; plan->companions != NULL && k < plan->companions->len; k++) {
        const SkCompanion *c = plan->companions->pdata[k];

        if (c->config && c->has_address) {
            const SkOccupant *occ = sk_topology_find_occupant(reparsed, &c->address);

            g_assert(occ != NULL);
            g_assert_cmpstr(occ->element, ==, "controller");
            n_added_comp_pci++;
        }
    }
    g_assert_cmpuint(sk_topology_get_n_occupants(reparsed), ==,
                     sk_topology_get_n_occupants(topo) + plan->controllers->len + n_added_comp_pci +
                         (dev != NULL && plan->has_address ? 1 : 0));
    g_assert_cmpuint(sk_topology_get_n_controllers(reparsed), ==,
                     sk_topology_get_n_controllers(topo) + plan->controllers->len);
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *c = plan->controllers->pdata[i];
        const SkController *got = sk_topology_find_controller(reparsed, c->index);

        g_assert(got != NULL);
        g_assert_cmpint(got->model, ==, c->model);
        g_assert_cmpstr(got->model_name, ==, c->model_name);
        g_assert_cmpint(got->chassis, ==, c->chassis);
        g_assert_cmpint(got->port, ==, c->port);
        g_assert_cmpint(got->chassis_nr, ==, c->chassis_nr);
        g_assert_true(got->has_address);
        g_assert_true(sk_pci_addr_equal(&got->address, &c->address));
        g_assert_cmpint(got->hotplug, ==, SK_HOTPLUG_DEFAULT);
    }
    if (dev != NULL && plan->has_address) {
        const SkOccupant *occ = sk_topology_find_occupant(reparsed, &plan->address);

        g_assert(occ != NULL);
        g_assert_cmpstr(occ->element, ==, dev->element);
    }
}

/* ---- hand-made plans (independent of the planner) ------------------------------------------- */

static SkNewController *
new_ctrl(guint index, SkPciModel model, int chassis, int port, int chassis_nr, SkPciAddr addr)
{
    SkNewController *c = g_new0(SkNewController, 1);

    c->index = index;
    c->model = model;
    c->model_name = sk_pci_model_default_name(model);
    c->chassis = chassis;
    c->port = port;
    c->chassis_nr = chassis_nr;
    c->address = addr;
    c->purpose = g_strdup("test");
    return c;
}

static void
free_ctrl(gpointer p)
{
    SkNewController *c = p;

    g_free(c->purpose);
    g_free(c);
}

/* A plan built by hand and freed by hand, so these tests do not depend on the planner. */
static SkPlan *
hand_plan(void)
{
    SkPlan *plan = g_new0(SkPlan, 1);

    plan->controllers = g_ptr_array_new_with_free_func(free_ctrl);
    plan->reasons = g_ptr_array_new_with_free_func(g_free);
    plan->effect = SK_PLAN_EFFECT_NEXT_BOOT;
    return plan;
}

static void
hand_plan_free(SkPlan *plan)
{
    g_ptr_array_unref(plan->controllers);
    g_ptr_array_unref(plan->reasons);
    g_free(plan);
}

static void
test_hand_legacy_chain(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_file("net-rtl8139.xml", topo);
    SkPlan *plan = hand_plan();

    g_ptr_array_add(plan->controllers, new_ctrl(4, SK_PCI_MODEL_PCIE_ROOT_PORT, 4, 0xb, -1,
                                                (SkPciAddr){ 0, 0, 1, 3 }));
    g_ptr_array_add(plan->controllers, new_ctrl(5, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE, -1, -1, -1,
                                                (SkPciAddr){ 0, 4, 0, 0 }));
    plan->has_address = TRUE;
    plan->address = (SkPciAddr){ 0, 5, 1, 0 };
    check_apply(topo, plan, dev);
    hand_plan_free(plan);
}

static void
test_hand_spares(void)
{
    g_autoptr(SkTopology) topo = load("q35-bare.xml");
    SkPlan *plan = hand_plan();

    for (guint i = 0; i < 4; i++) {
        g_ptr_array_add(plan->controllers, new_ctrl(i + 1, SK_PCI_MODEL_PCIE_ROOT_PORT, (int)i + 1,
                                                    (int)(0x8 + i), -1, (SkPciAddr){ 0, 0, 1, i }));
    }
    check_apply(topo, plan, NULL);
    hand_plan_free(plan);
}

static void
test_hand_pci_bridge(void)
{
    g_autoptr(SkTopology) topo = load("pc-hotplug-off.xml");
    g_autoptr(SkDevice) dev = device_file("net-e1000.xml", topo);
    SkPlan *plan = hand_plan();

    g_ptr_array_add(plan->controllers,
                    new_ctrl(1, SK_PCI_MODEL_PCI_BRIDGE, -1, -1, 1, (SkPciAddr){ 0, 0, 5, 0 }));
    plan->has_address = TRUE;
    plan->address = (SkPciAddr){ 0, 1, 1, 0 };
    g_assert_null(sk_topology_find_occupant(topo, &(SkPciAddr){ 0, 0, 5, 0 }));
    check_apply(topo, plan, dev);
    hand_plan_free(plan);
}

/* A device with an explicit address of its own gets the plan's address instead (one only). */
static void
test_hand_replace_address(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio-addr.xml", topo);
    SkPlan *plan = hand_plan();

    plan->has_address = TRUE;
    plan->address = (SkPciAddr){ 0, 0, 7, 0 };
    check_apply(topo, plan, dev);
    hand_plan_free(plan);
}

/* Nothing to add: the result equals the input. */
static void
test_hand_empty(void)
{
    const char *files[] = { "q35-default.xml", "q35-live.xml", "pc-default.xml",
                            "virt-aarch64.xml" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autoptr(SkTopology) topo = load(files[i]);
        SkPlan *plan = hand_plan();
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) out = NULL;
        g_autofree char *a = NULL;
        g_autofree char *b = NULL;

        plan->effect = SK_PLAN_EFFECT_NONE;
        out = sk_edit_apply_plan(sk_topology_get_doc(topo), plan, NULL, &error);
        g_assert_no_error(error);
        g_assert(out != NULL);
        a = node_text(sk_topology_get_doc(topo), xmlDocGetRootElement(sk_topology_get_doc(topo)));
        b = node_text(out, xmlDocGetRootElement(out));
        g_assert_cmpstr(a, ==, b);
        hand_plan_free(plan);
    }
}

static void
test_new_controller_node(void)
{
    const struct {
        SkPciModel model;
        int chassis, port, chassis_nr;
        SkPciAddr addr;
    } rows[] = {
        { SK_PCI_MODEL_PCIE_ROOT_PORT, 7, 0x13, -1, { 0, 0, 2, 3 } },
        { SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE, -1, -1, -1, { 0, 7, 0, 0 } },
        { SK_PCI_MODEL_PCI_BRIDGE, -1, -1, 7, { 0, 0, 3, 0 } },
        { SK_PCI_MODEL_DMI_TO_PCI_BRIDGE, -1, -1, -1, { 0, 0, 0x1e, 0 } },
    };

    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autofree SkNewController *c = g_new0(SkNewController, 1);
        xmlNode *node;
        g_autofree char *port = NULL;
        xmlNode *target;

        c->index = 7;
        c->model = rows[i].model;
        c->model_name = sk_pci_model_default_name(rows[i].model);
        c->chassis = rows[i].chassis;
        c->port = rows[i].port;
        c->chassis_nr = rows[i].chassis_nr;
        c->address = rows[i].addr;
        node = sk_edit_new_controller_node(c);
        g_assert(node != NULL);
        check_controller_node(node, c);
        target = child(node, "target");
        if (rows[i].port >= 0) {
            /* libvirt writes port in hex; either form parses, but it must be the number. */
            port = prop(target, "port");
            g_assert_cmpint(g_ascii_strtoll(port, NULL, 0), ==, 0x13);
        }
        if (rows[i].chassis < 0 && rows[i].chassis_nr < 0)
            g_assert_true(target == NULL || target->properties == NULL);
        xmlFreeNode(node);
    }
}

/* ---- plans made by the planner -------------------------------------------------------------- */

typedef struct {
    const char *fixture;
    const char *device; /* NULL: reserve plan */
    gboolean require;
    SkLegacyBridge legacy;
    guint spare;
} PlannerCase;

static const PlannerCase planner_cases[] = {
    { "q35-default.xml", "net-virtio.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-default.xml", "net-rtl8139.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-default.xml", "net-rtl8139.xml", FALSE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-bare.xml", "net-e1000.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-full.xml", "net-virtio.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-virt-manager.xml", "disk-virtio.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-legacy-chain.xml", "net-e1000.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-live-inactive.xml", "net-virtio.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "virt-aarch64.xml", "net-rtl8139.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "pc-noacpi.xml", "net-virtio.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    /* Companions: the controllers libvirt would add by itself, added explicitly. */
    { "q35-default.xml", "disk-scsi.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-default.xml", "disk-scsi.xml", FALSE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-default.xml", "disk-sata.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-default.xml", "channel-virtio.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "virt-aarch64-mmio-ports.xml", "disk-scsi.xml", FALSE, SK_LEGACY_BRIDGE_LAZY, 4 },
    /* virtio-mmio guests: PCI when hotplug is required, virtio-mmio kept otherwise. */
    { "virt-aarch64-mmio.xml", "net-virtio.xml", TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "virt-aarch64-mmio.xml", "net-virtio.xml", FALSE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-default.xml", NULL, TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "q35-default.xml", NULL, TRUE, SK_LEGACY_BRIDGE_EAGER, 4 },
    { "q35-bare.xml", NULL, TRUE, SK_LEGACY_BRIDGE_LAZY, 14 },
    { "q35-virt-manager.xml", NULL, TRUE, SK_LEGACY_BRIDGE_EAGER, 6 },
    { "q35-switch.xml", NULL, TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "virt-aarch64.xml", NULL, TRUE, SK_LEGACY_BRIDGE_LAZY, 8 },
    { "pc-hotplug-off.xml", NULL, TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
    { "pc-default.xml", NULL, TRUE, SK_LEGACY_BRIDGE_LAZY, 4 },
};

static void
test_planner_case(gconstpointer data)
{
    const PlannerCase *pc = data;
    g_autoptr(SkTopology) topo = load(pc->fixture);
    g_autoptr(SkDevice) dev = NULL;
    g_autoptr(SkPlan) plan = NULL;
    g_autoptr(GError) error = NULL;

    if (pc->device != NULL) {
        SkPlanOptions opts;

        sk_plan_options_init(&opts);
        opts.live = FALSE;
        opts.config = TRUE;
        opts.hotplug_require = pc->require;
        opts.policy.legacy_bridge = pc->legacy;
        opts.policy.spare_ports = pc->spare;
        dev = device_file(pc->device, topo);
        plan = sk_plan_attach(topo, NULL, dev, &opts, &error);
    } else {
        SkPolicy policy;

        sk_policy_init(&policy);
        policy.legacy_bridge = pc->legacy;
        policy.spare_ports = pc->spare;
        plan = sk_plan_reserve(topo, &policy, &error);
    }
    g_assert_no_error(error);
    g_assert(plan != NULL);
    g_assert_false(plan->refused);
    check_apply(topo, plan, dev);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/edit/hand/legacy-chain", test_hand_legacy_chain);
    g_test_add_func("/edit/hand/spares", test_hand_spares);
    g_test_add_func("/edit/hand/pci-bridge", test_hand_pci_bridge);
    g_test_add_func("/edit/hand/replace-address", test_hand_replace_address);
    g_test_add_func("/edit/hand/empty", test_hand_empty);
    g_test_add_func("/edit/new-controller-node", test_new_controller_node);
    for (guint i = 0; i < G_N_ELEMENTS(planner_cases); i++) {
        const PlannerCase *pc = &planner_cases[i];
        g_autofree char *path = g_strdup_printf("/edit/planner/%u-%s-%s", i, pc->fixture,
                                                pc->device ? pc->device : "reserve");
        g_test_add_data_func(path, pc, test_planner_case);
    }

    return g_test_run();
}
