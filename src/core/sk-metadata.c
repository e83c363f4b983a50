/* slotkeeper: reading and writing slotkeeper's element in a domain's <metadata>. */
#include "sk-metadata.h"

#include <string.h>

#include "sk-error.h"
#include "sk-xml.h"

SkMetadata *
sk_metadata_new(void)
{
    SkMetadata *md = g_new0(SkMetadata, 1);

    md->no_hotplug = g_ptr_array_new_with_free_func(g_free);
    return md;
}

SkMetadata *
sk_metadata_copy(const SkMetadata *md)
{
    SkMetadata *copy = sk_metadata_new();

    copy->has_spare_ports = md->has_spare_ports;
    copy->spare_ports = md->spare_ports;
    copy->has_legacy_bridge = md->has_legacy_bridge;
    copy->legacy_bridge = md->legacy_bridge;
    copy->has_managed = md->has_managed;
    copy->managed = md->managed;
    for (guint i = 0; i < md->no_hotplug->len; i++)
        g_ptr_array_add(copy->no_hotplug, g_strdup(md->no_hotplug->pdata[i]));
    return copy;
}

void
sk_metadata_free(SkMetadata *md)
{
    if (md == NULL)
        return;
    g_ptr_array_unref(md->no_hotplug);
    g_free(md);
}

static gboolean
sk_metadata_is_ours(xmlNode *node)
{
    return node->type == XML_ELEMENT_NODE && node->ns != NULL && node->ns->href != NULL &&
           g_str_equal((const char *)node->ns->href, SK_METADATA_NS);
}

/* virDomainGetMetadata returns the element with our namespace declared under the prefix but
 * not applied (<policy xmlns:slotkeeper=NS>): accept that form, and then its un-namespaced
 * children, too. */
static gboolean
sk_metadata_is_bare_ours(xmlNode *node)
{
    if (node->type != XML_ELEMENT_NODE || node->ns != NULL)
        return FALSE;
    for (xmlNs *ns = node->nsDef; ns != NULL; ns = ns->next) {
        if (ns->href != NULL && g_str_equal((const char *)ns->href, SK_METADATA_NS))
            return TRUE;
    }
    return FALSE;
}

static gboolean
sk_metadata_parse_bool(const char *value, gboolean *out)
{
    if (g_str_equal(value, "yes") || g_str_equal(value, "on") || g_str_equal(value, "true")) {
        *out = TRUE;
        return TRUE;
    }
    if (g_str_equal(value, "no") || g_str_equal(value, "off") || g_str_equal(value, "false")) {
        *out = FALSE;
        return TRUE;
    }
    return FALSE;
}

static gboolean
sk_metadata_invalid(const char *attr, const char *value, const char *expected, GError **error)
{
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                "slotkeeper metadata has an invalid %s='%s' (expected %s)", attr, value, expected);
    return FALSE;
}

static gboolean
sk_metadata_parse_element(SkMetadata *md, xmlNode *elem, GError **error)
{
    g_autofree char *spare = sk_xml_get_prop(elem, "spare-ports");
    g_autofree char *legacy = sk_xml_get_prop(elem, "legacy-bridge");
    g_autofree char *managed = sk_xml_get_prop(elem, "managed");

    if (spare != NULL) {
        if (!sk_xml_parse_uint(spare, &md->spare_ports) ||
            !sk_policy_check_spare_ports(md->spare_ports, NULL))
            return sk_metadata_invalid("spare-ports", spare,
                                       "0.." G_STRINGIFY(SK_POLICY_SPARE_PORTS_MAX), error);
        md->has_spare_ports = TRUE;
    }
    if (legacy != NULL) {
        if (!sk_legacy_bridge_from_string(legacy, &md->legacy_bridge, NULL))
            return sk_metadata_invalid("legacy-bridge", legacy, "lazy, eager or never", error);
        md->has_legacy_bridge = TRUE;
    }
    if (managed != NULL) {
        if (!sk_metadata_parse_bool(managed, &md->managed))
            return sk_metadata_invalid("managed", managed, "yes or no", error);
        md->has_managed = TRUE;
    }
    for (xmlNode *cur = elem->children; cur != NULL; cur = cur->next) {
        g_autofree char *key = NULL;
        g_autofree char *require = NULL;
        gboolean required = TRUE;

        gboolean ours = sk_metadata_is_ours(cur) ||
                        (cur->type == XML_ELEMENT_NODE && cur->ns == NULL && elem->ns == NULL);

        if (!ours || !g_str_equal((const char *)cur->name, "device"))
            continue;
        key = sk_xml_get_prop(cur, "key");
        require = sk_xml_get_prop(cur, "hotplug-require");
        if (key == NULL || require == NULL)
            continue;
        if (!sk_metadata_parse_bool(require, &required))
            return sk_metadata_invalid("hotplug-require", require, "yes or no", error);
        sk_metadata_set_hotplug_require(md, key, required);
    }
    return TRUE;
}

xmlNode *
sk_metadata_find_element(xmlDoc *domain)
{
    xmlNode *metadata = sk_xml_child(xmlDocGetRootElement(domain), "metadata");

    for (xmlNode *cur = metadata ? metadata->children : NULL; cur != NULL; cur = cur->next) {
        if (sk_metadata_is_ours(cur))
            return cur;
    }
    return NULL;
}

SkMetadata *
sk_metadata_from_domain(xmlDoc *domain, GError **error)
{
    g_autoptr(SkMetadata) md = sk_metadata_new();
    xmlNode *ours = sk_metadata_find_element(domain);

    if (ours != NULL && !sk_metadata_parse_element(md, ours, error))
        return NULL;
    return g_steal_pointer(&md);
}

SkMetadata *
sk_metadata_from_xml(const char *xml, GError **error)
{
    g_autoptr(xmlDoc) doc = sk_xml_parse(xml, strlen(xml), "slotkeeper metadata", error);
    g_autoptr(SkMetadata) md = sk_metadata_new();
    xmlNode *root;

    if (doc == NULL)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!sk_metadata_is_ours(root) && !sk_metadata_is_bare_ours(root)) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "metadata element <%s> is not in slotkeeper's namespace %s",
                    (const char *)root->name, SK_METADATA_NS);
        return NULL;
    }
    if (!sk_metadata_parse_element(md, root, error))
        return NULL;
    return g_steal_pointer(&md);
}

char *
sk_metadata_to_xml(const SkMetadata *md)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *root = xmlNewNode(NULL, (const xmlChar *)"policy");
    /* A default namespace: libvirt declares the prefix itself (virDomainSetMetadata's key) and
     * refuses an element that declares it too. */
    xmlNs *ns = xmlNewNs(root, (const xmlChar *)SK_METADATA_NS, NULL);

    xmlSetNs(root, ns);
    xmlDocSetRootElement(doc, root);
    if (md->has_spare_ports) {
        g_autofree char *value = g_strdup_printf("%u", md->spare_ports);

        xmlNewProp(root, (const xmlChar *)"spare-ports", (const xmlChar *)value);
    }
    if (md->has_legacy_bridge)
        xmlNewProp(root, (const xmlChar *)"legacy-bridge",
                   (const xmlChar *)sk_legacy_bridge_to_string(md->legacy_bridge));
    if (md->has_managed)
        xmlNewProp(root, (const xmlChar *)"managed", (const xmlChar *)(md->managed ? "yes" : "no"));
    for (guint i = 0; i < md->no_hotplug->len; i++) {
        xmlNode *dev = xmlNewChild(root, ns, (const xmlChar *)"device", NULL);

        xmlNewProp(dev, (const xmlChar *)"key", (const xmlChar *)md->no_hotplug->pdata[i]);
        xmlNewProp(dev, (const xmlChar *)"hotplug-require", (const xmlChar *)"no");
    }
    return sk_xml_node_to_string(root);
}

void
sk_metadata_apply(const SkMetadata *md, SkPolicy *policy)
{
    if (md->has_spare_ports)
        policy->spare_ports = md->spare_ports;
    if (md->has_legacy_bridge)
        policy->legacy_bridge = md->legacy_bridge;
}

char *
sk_metadata_device_key(const SkDevice *dev)
{
    xmlNode *node = dev->node;
    g_autofree char *alias = sk_xml_get_prop(sk_xml_child(node, "alias"), "name");

    if (g_str_equal(dev->element, "interface")) {
        g_autofree char *mac = sk_xml_get_prop(sk_xml_child(node, "mac"), "address");
        g_autofree char *lower = mac ? g_ascii_strdown(mac, -1) : NULL;

        if (lower != NULL)
            return g_strdup_printf("interface mac=%s", lower);
    } else if (g_str_equal(dev->element, "disk")) {
        g_autofree char *target = sk_xml_get_prop(sk_xml_child(node, "target"), "dev");

        if (target != NULL)
            return g_strdup_printf("disk target=%s", target);
    } else if (g_str_equal(dev->element, "controller") && dev->pci_model == SK_PCI_MODEL_NONE) {
        g_autofree char *type = sk_xml_get_prop(node, "type");
        g_autofree char *index = sk_xml_get_prop(node, "index");
        guint value = 0;

        /* A controller slotkeeper added for a device (a SCSI controller for a SCSI disk). */
        if (type != NULL && index != NULL && sk_xml_parse_uint(index, &value))
            return g_strdup_printf("controller type=%s index=%u", type, value);
    } else if (g_str_equal(dev->element, "hostdev")) {
        xmlNode *source = sk_xml_child(node, "source");
        SkPciAddr addr = { 0 };
        gboolean has_pci = FALSE;

        /* <source><address domain= bus= slot= function=/> (no type attribute there). */
        if (source != NULL && sk_xml_child(source, "address") != NULL) {
            xmlNode *a = sk_xml_child(source, "address");
            g_autofree char *d = sk_xml_get_prop(a, "domain");
            g_autofree char *b = sk_xml_get_prop(a, "bus");
            g_autofree char *s = sk_xml_get_prop(a, "slot");
            g_autofree char *f = sk_xml_get_prop(a, "function");

            has_pci = sk_xml_parse_uint(d ? d : "0", &addr.domain) &&
                      sk_xml_parse_uint(b, &addr.bus) && sk_xml_parse_uint(s, &addr.slot) &&
                      sk_xml_parse_uint(f ? f : "0", &addr.function);
        }
        if (has_pci) {
            g_autofree char *text = sk_pci_addr_format(&addr);

            return g_strdup_printf("hostdev source=%s", text);
        }
    }
    if (alias != NULL)
        return g_strdup_printf("alias=%s", alias);
    return NULL;
}

gboolean
sk_metadata_device_present(const SkTopology *topo, const SkDevice *dev)
{
    g_autofree char *key = sk_metadata_device_key(dev);
    xmlNode *devices = sk_xml_child(xmlDocGetRootElement(sk_topology_get_doc(topo)), "devices");

    for (xmlNode *cur = devices ? devices->children : NULL; cur != NULL; cur = cur->next) {
        g_autoptr(SkDevice) other = NULL;
        g_autofree char *other_key = NULL;

        if (cur->type != XML_ELEMENT_NODE || !g_str_equal((const char *)cur->name, dev->element))
            continue;
        other = sk_device_classify(cur, sk_topology_get_machine_info(topo), NULL);
        if (other == NULL)
            continue;
        other_key = sk_metadata_device_key(other);
        if (key != NULL && other_key != NULL && g_str_equal(key, other_key))
            return TRUE;
        if (key == NULL && dev->has_pci_address && other->has_pci_address &&
            sk_pci_addr_equal(&dev->address, &other->address))
            return TRUE;
    }
    return FALSE;
}

static int
sk_metadata_find(const SkMetadata *md, const char *key)
{
    for (guint i = 0; i < md->no_hotplug->len; i++) {
        if (g_str_equal(md->no_hotplug->pdata[i], key))
            return (int)i;
    }
    return -1;
}

void
sk_metadata_set_hotplug_require(SkMetadata *md, const char *key, gboolean require)
{
    int found = sk_metadata_find(md, key);

    if (!require && found < 0)
        g_ptr_array_add(md->no_hotplug, g_strdup(key));
    else if (require && found >= 0)
        g_ptr_array_remove_index(md->no_hotplug, (guint)found);
}

gboolean
sk_metadata_get_no_hotplug(const SkMetadata *md, const char *key)
{
    return sk_metadata_find(md, key) >= 0;
}

gboolean
sk_metadata_legacy_in_use(const SkMetadata *md, const SkTopology *persistent)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(persistent);
    xmlNode *devices =
        sk_xml_child(xmlDocGetRootElement(sk_topology_get_doc(persistent)), "devices");

    if (!mi->has_pcie_root)
        return FALSE;
    for (xmlNode *cur = devices ? devices->children : NULL; cur != NULL; cur = cur->next) {
        g_autoptr(SkDevice) dev = NULL;
        g_autofree char *key = NULL;

        if (cur->type != XML_ELEMENT_NODE)
            continue;
        dev = sk_device_classify(cur, mi, NULL);
        /* Only what can be hot-added again counts: a SATA or USB companion controller, or a
         * VGA card, never asks for a hotplug slot. */
        if (dev == NULL || !dev->live_attachable || !(dev->flags & SK_CONNECT_PCI_DEVICE) ||
            (dev->flags & SK_CONNECT_PCIE_DEVICE))
            continue;
        key = sk_metadata_device_key(dev);
        if (key == NULL || !sk_metadata_get_no_hotplug(md, key))
            return TRUE;
    }
    return FALSE;
}
