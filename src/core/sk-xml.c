/* slotkeeper: libxml2 helpers. The parser never touches the network, never expands entities and
 * refuses DOCTYPEs, because domain and device XML come from callers we do not trust. */
#include "sk-xml.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <glib/gstdio.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlsave.h>

#include "sk-error.h"

const SkXmlLimits sk_xml_domain_limits = {
    .max_size = SK_XML_MAX_SIZE,
    .max_depth = 128,
    .max_elements = 200000,
    .max_attributes = 256,
    .max_attribute_len = 1024 * 1024,
};

const SkXmlLimits sk_xml_device_limits = {
    .max_size = SK_XML_DEVICE_MAX_SIZE,
    .max_depth = SK_XML_DEVICE_MAX_DEPTH,
    .max_elements = 1024,
    .max_attributes = 64,
    .max_attribute_len = 4096,
};

/* State of the SAX hooks that enforce the limits while libxml2 builds the tree. */
typedef struct {
    const SkXmlLimits *limits;
    const char *what;
    startElementNsSAX2Func start_element;
    endElementNsSAX2Func end_element;
    guint depth;
    guint n_elements;
    SkErrorCode code;
    char *violation;   /* the first limit exceeded; the parser is stopped */
    char *first_error; /* libxml2's first error: the one that names the real mistake */
    int first_line;
} SkXmlGuard;

/* libxml2's structured errors, of which the first is kept: later ones are consequences
 * ("Premature end of data" after a missing end tag). */
static void
sk_xml_guard_error(void *data, xmlErrorPtr err)
{
    xmlParserCtxtPtr ctxt = data;
    SkXmlGuard *guard = ctxt ? ctxt->_private : NULL;

    if (guard == NULL || guard->first_error != NULL || err == NULL || err->level < XML_ERR_ERROR)
        return;
    guard->first_error = g_strdup(err->message ? err->message : "parse error");
    g_strchomp(guard->first_error);
    guard->first_line = err->line;
}

static void sk_xml_guard_stop(xmlParserCtxtPtr ctxt, SkXmlGuard *guard, SkErrorCode code,
                              const char *fmt, ...) G_GNUC_PRINTF(4, 5);

/* Records the first limit exceeded and stops the parser there. */
static void
sk_xml_guard_stop(xmlParserCtxtPtr ctxt, SkXmlGuard *guard, SkErrorCode code, const char *fmt, ...)
{
    va_list args;

    if (guard->violation == NULL) {
        va_start(args, fmt);
        guard->violation = g_strdup_vprintf(fmt, args);
        va_end(args);
        guard->code = code;
    }
    xmlStopParser(ctxt);
}

static void
sk_xml_guard_start_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                           const xmlChar *uri, int nb_namespaces, const xmlChar **namespaces,
                           int nb_attributes, int nb_defaulted, const xmlChar **attributes)
{
    xmlParserCtxtPtr ctxt = ctx;
    SkXmlGuard *guard = ctxt->_private;
    const SkXmlLimits *lim = guard->limits;

    if (guard->violation != NULL)
        return;
    guard->depth++;
    guard->n_elements++;
    if (guard->depth > lim->max_depth) {
        g_autofree char *name = sk_xml_excerpt((const char *)localname, 64);

        sk_xml_guard_stop(ctxt, guard, SK_ERROR_INVALID_ARGUMENT,
                          "%s nests elements too deeply: <%s> is at depth %u (limit %u)",
                          guard->what, name, guard->depth, lim->max_depth);
        return;
    }
    if (guard->n_elements > lim->max_elements) {
        sk_xml_guard_stop(ctxt, guard, SK_ERROR_INVALID_ARGUMENT,
                          "%s has too many elements: more than %u (limit %u)", guard->what,
                          lim->max_elements, lim->max_elements);
        return;
    }
    if (nb_attributes < 0 || (guint)nb_attributes > lim->max_attributes) {
        g_autofree char *name = sk_xml_excerpt((const char *)localname, 64);

        sk_xml_guard_stop(ctxt, guard, SK_ERROR_INVALID_ARGUMENT,
                          "%s: <%s> has too many attributes: %d (limit %u)", guard->what, name,
                          nb_attributes, lim->max_attributes);
        return;
    }
    for (int i = 0; i < nb_attributes; i++) {
        /* localname, prefix, URI, value, end of value */
        const xmlChar *const *attr = attributes + 5 * i;
        gsize len = (gsize)(attr[4] - attr[3]);

        if (len > lim->max_attribute_len) {
            g_autofree char *name = sk_xml_excerpt((const char *)localname, 64);
            g_autofree char *aname = sk_xml_excerpt((const char *)attr[0], 64);

            sk_xml_guard_stop(ctxt, guard, SK_ERROR_INVALID_ARGUMENT,
                              "%s: attribute '%s' of <%s> is too long: %" G_GSIZE_FORMAT
                              " bytes (limit %" G_GSIZE_FORMAT ")",
                              guard->what, aname, name, len, lim->max_attribute_len);
            return;
        }
    }
    guard->start_element(ctx, localname, prefix, uri, nb_namespaces, namespaces, nb_attributes,
                         nb_defaulted, attributes);
}

static void
sk_xml_guard_end_element(void *ctx, const xmlChar *localname, const xmlChar *prefix,
                         const xmlChar *uri)
{
    xmlParserCtxtPtr ctxt = ctx;
    SkXmlGuard *guard = ctxt->_private;

    if (guard->violation != NULL)
        return;
    guard->depth--;
    guard->end_element(ctx, localname, prefix, uri);
}

/* Called as soon as a DOCTYPE is read, before any entity declaration in it: this catches DOCTYPEs
 * the byte search below cannot see (in UTF-7, EBCDIC and other encodings libxml2 converts). */
static void
sk_xml_guard_internal_subset(void *ctx, const xmlChar *name, const xmlChar *external_id,
                             const xmlChar *system_id)
{
    xmlParserCtxtPtr ctxt = ctx;
    SkXmlGuard *guard = ctxt->_private;

    sk_xml_guard_stop(ctxt, guard, SK_ERROR_INVALID_XML,
                      "%s has a DOCTYPE declaration, which slotkeeper does not accept",
                      guard->what);
}

xmlDoc *
sk_xml_parse_limited(const char *data, gsize len, const char *what, const SkXmlLimits *limits,
                     GError **error)
{
    SkXmlGuard guard = { 0 };
    const char *nul;
    xmlParserCtxtPtr ctxt;
    xmlDoc *doc;

    if (limits == NULL)
        limits = &sk_xml_domain_limits;
    if (len > limits->max_size) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "%s is too large: %" G_GSIZE_FORMAT " bytes (limit %" G_GSIZE_FORMAT ")", what,
                    len, limits->max_size);
        return NULL;
    }
    if (len == 0 || len > G_MAXINT) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML, "%s is empty", what);
        return NULL;
    }
    if ((nul = memchr(data, '\0', len)) != NULL) {
        /* libxml2 would stop at the NUL and ignore the rest; D-Bus strings never carry one, and
         * slotkeeper reads no UTF-16 (libvirt writes UTF-8). */
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "%s contains a NUL byte (at byte %" G_GSIZE_FORMAT ")", what,
                    (gsize)(nul - data));
        return NULL;
    }
    if (memmem(data, len, "<!DOCTYPE", strlen("<!DOCTYPE")) != NULL) {
        /* Refused before parsing: entities could expand without bound or pull in files. */
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML,
                    "%s has a DOCTYPE declaration, which slotkeeper does not accept", what);
        return NULL;
    }
    ctxt = xmlCreateMemoryParserCtxt(data, (int)len);
    if (ctxt == NULL || ctxt->sax == NULL) {
        g_clear_pointer(&ctxt, xmlFreeParserCtxt);
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED, "cannot allocate an XML parser");
        return NULL;
    }
    guard.limits = limits;
    guard.what = what;
    guard.start_element = ctxt->sax->startElementNs;
    guard.end_element = ctxt->sax->endElementNs;
    ctxt->_private = &guard;
    ctxt->sax->startElementNs = sk_xml_guard_start_element;
    ctxt->sax->endElementNs = sk_xml_guard_end_element;
    ctxt->sax->internalSubset = sk_xml_guard_internal_subset;
    /* No XML_PARSE_NOENT / DTDLOAD / XINCLUDE: entities stay unexpanded, nothing is loaded. */
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    ctxt->sax->serror = sk_xml_guard_error;
    xmlParseDocument(ctxt);
    doc = g_steal_pointer(&ctxt->myDoc);
    if (guard.violation != NULL) {
        g_set_error_literal(error, SK_ERROR, guard.code, guard.violation);
        g_free(guard.violation);
        g_free(guard.first_error);
        g_clear_pointer(&doc, xmlFreeDoc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    if (!ctxt->wellFormed || doc == NULL) {
        const xmlError *err = xmlCtxtGetLastError(ctxt);
        g_autofree char *msg = guard.first_error
                                   ? g_steal_pointer(&guard.first_error)
                                   : g_strdup(err && err->message ? err->message : "parse error");
        int line = guard.first_line ? guard.first_line : err ? err->line : 0;

        g_strchomp(msg);
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML, "%s is not well-formed: line %d: %s",
                    what, line, msg);
        g_clear_pointer(&doc, xmlFreeDoc);
        xmlFreeParserCtxt(ctxt);
        return NULL;
    }
    xmlFreeParserCtxt(ctxt);
    g_free(guard.first_error);
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
sk_xml_parse(const char *data, gsize len, const char *what, GError **error)
{
    return sk_xml_parse_limited(data, len, what, &sk_xml_domain_limits, error);
}

char *
sk_xml_read_bounded(const char *path, const char *label, gsize max, gsize *len, GError **error)
{
    g_autofree char *data = NULL;
    gboolean is_stdin = g_str_equal(path, "-");
    FILE *f = is_stdin ? stdin : g_fopen(path, "rb");
    gsize n;

    if (f == NULL) {
        int saved = errno;

        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT, "cannot open %s: %s", label,
                    g_strerror(saved));
        return NULL;
    }
    data = g_malloc(max + 2);
    n = fread(data, 1, max + 1, f);
    if (ferror(f)) {
        int saved = errno;

        if (!is_stdin)
            fclose(f);
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT, "cannot read %s: %s", label,
                    g_strerror(saved));
        return NULL;
    }
    if (!is_stdin)
        fclose(f);
    data[n] = '\0';
    *len = n;
    return g_steal_pointer(&data);
}

xmlDoc *
sk_xml_parse_file_limited(const char *path, const char *what, const SkXmlLimits *limits,
                          GError **error)
{
    g_autofree char *data = NULL;
    g_autofree char *label = NULL;
    gsize len = 0;

    if (limits == NULL)
        limits = &sk_xml_domain_limits;
    label = g_strdup_printf("%s '%s'", what, path);
    data = sk_xml_read_bounded(path, label, limits->max_size, &len, error);
    if (data == NULL)
        return NULL;
    if (len > limits->max_size) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "%s is too large: more than %" G_GSIZE_FORMAT " bytes (limit %" G_GSIZE_FORMAT
                    ")",
                    label, limits->max_size, limits->max_size);
        return NULL;
    }
    return sk_xml_parse_limited(data, len, label, limits, error);
}

xmlDoc *
sk_xml_parse_file(const char *path, const char *what, GError **error)
{
    return sk_xml_parse_file_limited(path, what, &sk_xml_domain_limits, error);
}

char *
sk_xml_excerpt(const char *str, gsize max_chars)
{
    g_autofree char *valid = g_utf8_make_valid(str ? str : "", -1);

    if (g_utf8_strlen(valid, -1) <= (glong)max_chars)
        return g_steal_pointer(&valid);
    g_autofree char *cut = g_utf8_substring(valid, 0, (glong)max_chars);

    return g_strconcat(cut, "...", NULL);
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
