/* slotkeeper: small libxml2 helpers shared by the parser, the classifier and the editor. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "sk-pci.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(xmlDoc, xmlFreeDoc)

/* Largest XML document slotkeeper parses (libvirt's own limit for a domain is 10 MiB). */
#define SK_XML_MAX_SIZE (10 * 1024 * 1024)

/* Parses @data without network access, entity expansion or DTD loading; a DOCTYPE is refused.
 * @what names the input in errors ("domain XML"). Errors: SK_ERROR_INVALID_XML. */
xmlDoc *sk_xml_parse(const char *data, gsize len, const char *what, GError **error);
/* Reads and parses a file (size-limited); errors name the file. */
xmlDoc *sk_xml_parse_file(const char *path, const char *what, GError **error);

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
