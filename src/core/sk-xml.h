/* slotkeeper: small libxml2 helpers shared by the parser, the classifier and the editor. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "sk-pci.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* Largest XML document slotkeeper parses (libvirt's own limit for a domain is 10 MiB). */
#define SK_XML_MAX_SIZE (10 * 1024 * 1024)

/* Limits on untrusted XML, enforced while parsing (a SAX hook stops the parser as soon as one is
 * exceeded, so memory stays bounded) and reported as SK_ERROR_INVALID_ARGUMENT with the limit and
 * the value in the message.
 *
 *                          domain XML           device XML (D-Bus requests, CLI DEVICE.xml)
 *   size                   10 MiB (libvirt's)   64 KiB
 *   element nesting depth  128                  32   (libvirt's own device XML is < 6 deep)
 *   elements               200000               1024
 *   attributes / element   256                  64
 *   attribute value        1 MiB                4 KiB
 *
 * The domain limits are generous because domain XML comes from libvirt (or a file the user
 * points at) and must never lock slotkeeper out of a domain libvirt accepted; they only bound
 * memory (a 10 MiB document of empty elements would otherwise cost ~400 MB of nodes). libxml2's
 * own nesting cap (256) stays in force below them. */
typedef struct {
    gsize max_size;
    guint max_depth;
    guint max_elements;
    guint max_attributes;
    gsize max_attribute_len;
} SkXmlLimits;

#define SK_XML_DEVICE_MAX_SIZE (64 * 1024)
#define SK_XML_DEVICE_MAX_DEPTH 32

extern const SkXmlLimits sk_xml_domain_limits;
extern const SkXmlLimits sk_xml_device_limits;

/* Parses @data without network access, entity expansion or DTD loading; a DOCTYPE is refused
 * (whatever the encoding), and so are NUL bytes and anything but one root element (libxml2:
 * "Extra content").
 * @what names the input in errors ("domain XML"). Errors: SK_ERROR_INVALID_XML, and
 * SK_ERROR_INVALID_ARGUMENT when @limits (NULL: the domain limits) are exceeded. */
xmlDoc *sk_xml_parse_limited(const char *data, gsize len, const char *what,
                             const SkXmlLimits *limits, GError **error);
/* sk_xml_parse_limited() with the domain limits. */
xmlDoc *sk_xml_parse(const char *data, gsize len, const char *what, GError **error);
/* Reads at most @max + 1 bytes of @path ("-": stdin), NUL-terminated, length in @len: enough
 * to tell that it is too large without reading /dev/zero or a huge file to the end. Errors
 * (SK_ERROR_INVALID_ARGUMENT) name @label. */
char *sk_xml_read_bounded(const char *path, const char *label, gsize max, gsize *len,
                          GError **error);
/* Reads and parses a file (size-limited); errors name the file. */
xmlDoc *sk_xml_parse_file(const char *path, const char *what, GError **error);
xmlDoc *sk_xml_parse_file_limited(const char *path, const char *what, const SkXmlLimits *limits,
                                  GError **error);

/* @str cut to at most @max_chars characters at a UTF-8 boundary, with "..." when cut: hostile
 * names and values go into error messages, which D-Bus requires to be valid UTF-8. Invalid
 * UTF-8 is replaced (U+FFFD). NULL gives "". */
char *sk_xml_excerpt(const char *str, gsize max_chars);

/* The attribute's value (newly allocated) or NULL. */
char *sk_xml_get_prop(xmlNode *node, const char *name);
/* First element child named @name, or NULL. */
xmlNode *sk_xml_child(xmlNode *node, const char *name);
/* Parses an unsigned number the way libvirt does ("0x1f" hex or decimal). */
gboolean sk_xml_parse_uint(const char *str, guint *out);

/* Reads <address type='pci' .../> under @node. Returns TRUE and fills @addr when the element has
 * a PCI address with at least one of domain/bus/slot non-zero (libvirt's "non-empty"); sets
 * @has_other (if not NULL) when it has an address of another type (drive, usb, virtio-mmio...).
 * Malformed numbers give FALSE with an SK_ERROR_INVALID_ADDRESS error. */
gboolean sk_xml_get_pci_address(xmlNode *node, SkPciAddr *addr, gboolean *has_pci,
                                gboolean *has_other, GError **error);
/* Replaces any <address> child of @node with <address type='pci' .../> for @addr. */
void sk_xml_set_pci_address(xmlNode *node, const SkPciAddr *addr);

/* Removes whitespace-only text nodes below @node, so that it can be laid out afresh. */
void sk_xml_strip_blanks(xmlNode *node);

/* Serialises a whole document / one node, indented, without an XML declaration. */
char *sk_xml_doc_to_string(xmlDoc *doc);
char *sk_xml_node_to_string(xmlNode *node);

G_END_DECLS
