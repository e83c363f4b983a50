/* slotkeeper: libxml2 helpers. The parser never touches the network, never expands entities and
 * refuses DOCTYPEs, because domain and device XML come from callers we do not trust. */
#include "sk-xml.h"

#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "sk-error.h"

xmlDoc *
sk_xml_parse(const char *data, gsize len, const char *what, GError **error)
{
    xmlParserCtxtPtr ctxt;
    xmlDoc *doc;

    if (len > SK_XML_MAX_SIZE) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "%s is too large (%" G_GSIZE_FORMAT " bytes, at most %d)", what, len,
                    SK_XML_MAX_SIZE);
        return NULL;
    }
    if (len == 0 || len > G_MAXINT) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML, "%s is empty", what);
        return NULL;
    }
    if (g_strstr_len(data, (gssize)len, "<!DOCTYPE") != NULL) {
        /* Refused before parsing: entities could expand without bound or pull in files. */
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "%s has a DOCTYPE declaration, which slotkeeper does not accept", what);
        return NULL;
    }
    ctxt = xmlNewParserCtxt();
    if (ctxt == NULL) {
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED, "cannot allocate an XML parser");
        return NULL;
    }
    doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL,
                            XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = g_strdup(err && err->message ? err->message : "parse error");

        g_strchomp(msg);
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML, "%s is not well-formed: line %d: %s",
                    what, err ? err->line : 0, msg);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "%s has a DOCTYPE declaration, which slotkeeper does not accept", what);
        xmlFreeDoc(doc);
        return NULL;
    }
    if (xmlDocGetRootElement(doc) == NULL) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML, "%s has no root element", what);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

xmlDoc *
sk_xml_parse_file(const char *path, const char *what, GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *label = NULL;
    g_autoptr(GError) local = NULL;
    gsize len = 0;
    GStatBuf st;

    if (g_stat(path, &st) == 0 && st.st_size > SK_XML_MAX_SIZE) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "%s '%s' is too large (at most %d bytes)", what, path, SK_XML_MAX_SIZE);
        return NULL;
    }
    if (!g_file_get_contents(path, &data, &len, &local)) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT, "cannot read %s: %s", what,
                    local->message);
        return NULL;
    }
    label = g_strdup_printf("%s '%s'", what, path);
    return sk_xml_parse(data, len, label, error);
}

char *
sk_xml_get_prop(xmlNode *node, const char *name)
{
    xmlChar *value;
    char *copy;

    if (node == NULL)
        return NULL;
    value = xmlGetProp(node, (const xmlChar *)name);
    if (value == NULL)
        return NULL;
    copy = g_strdup((const char *)value);
    xmlFree(value);
    return copy;
}

xmlNode *
sk_xml_child(xmlNode *node, const char *name)
{
    if (node == NULL)
        return NULL;
    for (xmlNode *cur = node->children; cur != NULL; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE && g_str_equal((const char *)cur->name, name))
            return cur;
    }
    return NULL;
}

gboolean
sk_xml_parse_uint(const char *str, guint *out)
{
    guint64 value = 0;
    const char *digits = str;
    guint base = 10;

    if (str == NULL || *str == '\0')
        return FALSE;
    if (g_str_has_prefix(str, "0x") || g_str_has_prefix(str, "0X")) {
        digits = str + 2;
        base = 16;
    }
    if (*digits == '\0' || !g_ascii_string_to_unsigned(digits, base, 0, G_MAXUINT32, &value, NULL))
        return FALSE;
    *out = (guint)value;
    return TRUE;
}

gboolean
sk_xml_get_pci_address(xmlNode *node, SkPciAddr *addr, gboolean *has_pci, gboolean *has_other,
                       GError **error)
{
    static const char *const fields[] = { "domain", "bus", "slot", "function" };
    static const guint limits[] = { 0xffff, 0xff, 0x1f, 7 };
    xmlNode *anode = sk_xml_child(node, "address");
    g_autofree char *type = NULL;
    guint values[4] = { 0, 0, 0, 0 };

    if (has_pci)
        *has_pci = FALSE;
    if (has_other)
        *has_other = FALSE;
    if (anode == NULL)
        return TRUE;
    type = sk_xml_get_prop(anode, "type");
    if (type == NULL || !g_str_equal(type, "pci")) {
        if (has_other)
            *has_other = TRUE;
        return TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *value = sk_xml_get_prop(anode, fields[i]);

        if (value == NULL)
            continue;
        if (!sk_xml_parse_uint(value, &values[i]) || values[i] > limits[i]) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "<%s> has an invalid PCI address %s='%s' (at most 0x%x)",
                        (const char *)node->name, fields[i], value, limits[i]);
            return FALSE;
        }
    }
    addr->domain = values[0];
    addr->bus = values[1];
    addr->slot = values[2];
    addr->function = values[3];
    if (has_pci)
        *has_pci = !sk_pci_addr_is_empty(addr);
    return TRUE;
}

void
sk_xml_set_pci_address(xmlNode *node, const SkPciAddr *addr)
{
    xmlNode *old = sk_xml_child(node, "address");
    xmlNode *anode = xmlNewNode(NULL, (const xmlChar *)"address");
    char buf[16];

    xmlNewProp(anode, (const xmlChar *)"type", (const xmlChar *)"pci");
    g_snprintf(buf, sizeof(buf), "0x%04x", addr->domain);
    xmlNewProp(anode, (const xmlChar *)"domain", (const xmlChar *)buf);
    g_snprintf(buf, sizeof(buf), "0x%02x", addr->bus);
    xmlNewProp(anode, (const xmlChar *)"bus", (const xmlChar *)buf);
    g_snprintf(buf, sizeof(buf), "0x%02x", addr->slot);
    xmlNewProp(anode, (const xmlChar *)"slot", (const xmlChar *)buf);
    g_snprintf(buf, sizeof(buf), "0x%x", addr->function);
    xmlNewProp(anode, (const xmlChar *)"function", (const xmlChar *)buf);
    if (old != NULL) {
        xmlReplaceNode(old, anode);
        xmlFreeNode(old);
    } else {
        xmlAddChild(node, anode);
    }
}

void
sk_xml_strip_blanks(xmlNode *node)
{
    xmlNode *cur = node->children;

    while (cur != NULL) {
        xmlNode *next = cur->next;

        if (cur->type == XML_TEXT_NODE && xmlIsBlankNode(cur)) {
            xmlUnlinkNode(cur);
            xmlFreeNode(cur);
        } else if (cur->type == XML_ELEMENT_NODE) {
            sk_xml_strip_blanks(cur);
        }
        cur = next;
    }
}

static char *
sk_xml_buffer_steal(xmlBufferPtr buf)
{
    char *out = g_strdup((const char *)xmlBufferContent(buf));

    xmlBufferFree(buf);
    return out;
}

char *
sk_xml_doc_to_string(xmlDoc *doc)
{
    xmlBufferPtr buf = xmlBufferCreate();
    xmlSaveCtxtPtr save = xmlSaveToBuffer(buf, "UTF-8", XML_SAVE_FORMAT | XML_SAVE_NO_DECL);

    xmlSaveDoc(save, doc);
    xmlSaveClose(save);
    return sk_xml_buffer_steal(buf);
}

char *
sk_xml_node_to_string(xmlNode *node)
{
    xmlBufferPtr buf = xmlBufferCreate();
    g_autofree char *text = NULL;

    xmlNodeDump(buf, node->doc, node, 0, 1);
    text = sk_xml_buffer_steal(buf);
    return g_strconcat(text, "\n", NULL);
}
