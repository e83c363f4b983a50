/* slotkeeper: applying a plan to a domain XML. Additions only: the copy gets new <controller>
 * elements and the device; no existing element or attribute is touched. */
#include "sk-edit.h"

#include "sk-error.h"
#include "sk-xml.h"

static void
sk_edit_set_uint(xmlNode *node, const char *name, gboolean hex, guint value)
{
    g_autofree char *text = hex ? g_strdup_printf("0x%x", value) : g_strdup_printf("%u", value);

    xmlNewProp(node, (const xmlChar *)name, (const xmlChar *)text);
}

xmlNode *
sk_edit_new_controller_node(const SkNewController *ctrl)
{
    xmlNode *node = xmlNewNode(NULL, (const xmlChar *)"controller");
    xmlNode *model;

    xmlNewProp(node, (const xmlChar *)"type", (const xmlChar *)"pci");
    sk_edit_set_uint(node, "index", FALSE, ctrl->index);
    xmlNewProp(node, (const xmlChar *)"model",
               (const xmlChar *)sk_pci_model_to_string(ctrl->model));
    if (ctrl->model_name != NULL) {
        model = xmlNewChild(node, NULL, (const xmlChar *)"model", NULL);
        xmlNewProp(model, (const xmlChar *)"name", (const xmlChar *)ctrl->model_name);
    }
    if (ctrl->chassis >= 0 || ctrl->chassis_nr >= 0) {
        xmlNode *target = xmlNewChild(node, NULL, (const xmlChar *)"target", NULL);

        if (ctrl->chassis >= 0)
            sk_edit_set_uint(target, "chassis", FALSE, (guint)ctrl->chassis);
        if (ctrl->port >= 0)
            sk_edit_set_uint(target, "port", TRUE, (guint)ctrl->port);
        if (ctrl->chassis_nr >= 0)
            sk_edit_set_uint(target, "chassisNr", FALSE, (guint)ctrl->chassis_nr);
    }
    sk_xml_set_pci_address(node, &ctrl->address);
    return node;
}

char *
sk_edit_controller_xml(const SkNewController *ctrl)
{
    g_autoptr(xmlDoc) doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNode *node = sk_edit_new_controller_node(ctrl);

    xmlDocSetRootElement(doc, node);
    return sk_xml_node_to_string(node);
}

/* The whitespace that precedes @ref, so that inserted siblings line up with it. */
static xmlNode *
sk_edit_indent_for(xmlDoc *doc, xmlNode *ref)
{
    if (ref->prev != NULL && ref->prev->type == XML_TEXT_NODE && xmlIsBlankNode(ref->prev))
        return xmlNewDocText(doc, ref->prev->content);
    return NULL;
}

/* libxml2 does not indent inside an element that has text children (as <devices> has), so new
 * elements get their own whitespace, one level (2 spaces, as libvirt writes) below @indent. */
static void
sk_edit_indent_children(xmlDoc *doc, xmlNode *node, const xmlChar *indent)
{
    g_autofree char *inner = g_strconcat((const char *)indent, "  ", NULL);
    xmlNode *cur = node->children;

    if (cur == NULL)
        return;
    for (xmlNode *c = cur; c != NULL; c = c->next) {
        if (c->type == XML_TEXT_NODE)
            return; /* already has its own layout */
    }
    while (cur != NULL) {
        xmlNode *next = cur->next;

        xmlAddPrevSibling(cur, xmlNewDocText(doc, (const xmlChar *)inner));
        if (cur->type == XML_ELEMENT_NODE)
            sk_edit_indent_children(doc, cur, (const xmlChar *)inner);
        cur = next;
    }
    xmlAddChild(node, xmlNewDocText(doc, indent));
}

/* Inserts @node after @ref (or as the last child of @parent when @ref is NULL). */
static void
sk_edit_insert(xmlDoc *doc, xmlNode *parent, xmlNode *ref, xmlNode *node)
{
    xmlNode *indent;

    if (ref == NULL) {
        xmlNode *last = xmlGetLastChild(parent);

        /* Keep the closing tag's indentation after the new element. */
        if (last != NULL && last->type == XML_TEXT_NODE && xmlIsBlankNode(last)) {
            xmlNode *elem = last->prev;

            indent = elem ? sk_edit_indent_for(doc, elem) : NULL;
            xmlAddPrevSibling(last, node);
            if (indent != NULL) {
                xmlAddPrevSibling(node, indent);
                sk_edit_indent_children(doc, node, indent->content);
            }
            return;
        }
        xmlAddChild(parent, node);
        return;
    }
    indent = sk_edit_indent_for(doc, ref);
    xmlAddNextSibling(ref, node);
    if (indent != NULL) {
        xmlAddPrevSibling(node, indent);
        sk_edit_indent_children(doc, node, indent->content);
    }
}

static xmlNode *
sk_edit_last_named(xmlNode *parent, const char *name)
{
    xmlNode *found = NULL;

    for (xmlNode *cur = parent->children; cur != NULL; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE && g_str_equal((const char *)cur->name, name))
            found = cur;
    }
    return found;
}

/* multifunction='on' for function 0 of a slot that this plan fills with several functions. */
static gboolean
sk_edit_needs_multifunction(const SkPlan *plan, const SkNewController *ctrl)
{
    if (ctrl->address.function != 0)
        return FALSE;
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *other = plan->controllers->pdata[i];

        if (other->address.bus == ctrl->address.bus && other->address.slot == ctrl->address.slot &&
            other->address.function != 0)
            return TRUE;
    }
    return FALSE;
}

xmlDoc *
sk_edit_apply_plan(xmlDoc *domain, const SkPlan *plan, const SkDevice *dev, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    xmlNode *devices;
    xmlNode *ref;

    if (plan->refused) {
        g_set_error(error, SK_ERROR, plan->refusal_code, "cannot apply a refused plan: %s",
                    plan->refusal);
        return NULL;
    }
    doc = xmlCopyDoc(domain, 1);
    devices = sk_xml_child(xmlDocGetRootElement(doc), "devices");
    if (devices == NULL) {
        devices = xmlNewNode(NULL, (const xmlChar *)"devices");
        xmlAddChild(xmlDocGetRootElement(doc), devices);
    }
    ref = sk_edit_last_named(devices, "controller");
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *ctrl = plan->controllers->pdata[i];
        xmlNode *node = sk_edit_new_controller_node(ctrl);

        if (sk_edit_needs_multifunction(plan, ctrl))
            xmlNewProp(sk_xml_child(node, "address"), (const xmlChar *)"multifunction",
                       (const xmlChar *)"on");
        sk_edit_insert(doc, devices, ref, node);
        ref = node;
    }
    for (guint i = 0; plan->companions != NULL && i < plan->companions->len; i++) {
        const SkCompanion *comp = plan->companions->pdata[i];
        xmlNode *node;

        if (!comp->config)
            continue;
        node =
            sk_device_copy_node(comp->device, doc, comp->has_address ? &comp->address : NULL, NULL);
        sk_edit_insert(doc, devices, ref, node);
        ref = node;
    }
    if (dev != NULL) {
        xmlNode *copy = sk_device_copy_node(dev, doc, plan->has_address ? &plan->address : NULL,
                                            plan->has_drive_address ? &plan->drive_address : NULL);

        sk_edit_insert(doc, devices, sk_edit_last_named(devices, (const char *)copy->name), copy);
    }
    return g_steal_pointer(&doc);
}

char *
sk_edit_device_xml(const SkDevice *dev, const SkPlan *plan)
{
    return sk_device_to_xml_full(dev, plan->has_address ? &plan->address : NULL,
                                 plan->has_drive_address ? &plan->drive_address : NULL);
}

char *
sk_edit_companion_xml(const SkCompanion *comp)
{
    return sk_device_to_xml(comp->device, comp->has_address ? &comp->address : NULL);
}
