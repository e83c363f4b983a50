/* slotkeeper: the state slotkeeper keeps inside libvirt itself - the domain's <metadata>
 * element in slotkeeper's namespace: per-domain policy overrides and the hotplug requirement
 * of devices attached with hotplug-require=no. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "sk-device.h"
#include "sk-planner.h"

G_BEGIN_DECLS

#define SK_METADATA_NS "https://slotkeeper.org/xmlns/domain/1"
#define SK_METADATA_PREFIX "slotkeeper"

typedef struct {
    gboolean has_spare_ports;
    guint spare_ports;
    gboolean has_legacy_bridge;
    SkLegacyBridge legacy_bridge;
    gboolean has_managed;
    gboolean managed;
    GPtrArray *no_hotplug; /* char*: device keys (sk_metadata_device_key) with require=no */
} SkMetadata;

SkMetadata *sk_metadata_new(void);
SkMetadata *sk_metadata_copy(const SkMetadata *md);
void sk_metadata_free(SkMetadata *md);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkMetadata, sk_metadata_free)

/* slotkeeper's element in a domain XML's <metadata>, or NULL. */
xmlNode *sk_metadata_find_element(xmlDoc *domain);
/* Reads slotkeeper's element from a domain XML's <metadata> (an empty SkMetadata when there is
 * none). Invalid values give SK_ERROR_INVALID_XML naming the attribute. */
SkMetadata *sk_metadata_from_domain(xmlDoc *domain, GError **error);
/* Parses the element alone, as virDomainGetMetadata returns it. */
SkMetadata *sk_metadata_from_xml(const char *xml, GError **error);
/* The element to store with virDomainSetMetadata(ELEMENT, xml, SK_METADATA_PREFIX,
 * SK_METADATA_NS): <policy xmlns=SK_METADATA_NS spare-ports=...><device key=.../></policy>;
 * libvirt stores it under the slotkeeper: prefix. */
char *sk_metadata_to_xml(const SkMetadata *md);

/* @policy with the domain's overrides applied. */
void sk_metadata_apply(const SkMetadata *md, SkPolicy *policy);
/* A stable key naming @dev across redefinitions: "interface mac=52:54:00:..",
 * "disk target=vda", "hostdev source=0000:03:00.0", "controller type=scsi index=0" (not for
 * PCI controllers), else "alias=ua-..." ; NULL if none. */
char *sk_metadata_device_key(const SkDevice *dev);
/* Whether @topo holds @dev: the same key (sk_metadata_device_key), or without one the same
 * explicit PCI address. */
gboolean sk_metadata_device_present(const SkTopology *topo, const SkDevice *dev);
/* Records (or forgets, with @require TRUE) that the device was placed with require=no. */
void sk_metadata_set_hotplug_require(SkMetadata *md, const char *key, gboolean require);
/* Whether the device was attached with hotplug-require=no. */
gboolean sk_metadata_get_no_hotplug(const SkMetadata *md, const char *key);
/* Whether @persistent (a PCI Express machine) holds a hot-pluggable conventional PCI device
 * that requires hotplug: one not recorded as hotplug-require=no. The lazy legacy-bridge policy
 * then keeps a legacy chain ready. */
gboolean sk_metadata_legacy_in_use(const SkMetadata *md, const SkTopology *persistent);

G_END_DECLS
