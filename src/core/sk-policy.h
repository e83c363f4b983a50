/* slotkeeper: the slot policy - how many spare hotplug ports to keep, when to add the legacy
 * PCI bridge chain, the root-port cap - and the one definition of each policy value's range,
 * which the config file, the domain metadata, D-Bus and the CLI all check with the same words. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    SK_LEGACY_BRIDGE_LAZY,  /* add root port + pcie-to-pci-bridge when a legacy device needs it */
    SK_LEGACY_BRIDGE_EAGER, /* keep one present with free slots */
    SK_LEGACY_BRIDGE_NEVER, /* never add one */
} SkLegacyBridge;

typedef struct {
    guint spare_ports; /* empty hotplug root ports to keep (default 4) */
    SkLegacyBridge legacy_bridge;
    guint root_port_cap; /* 0: the per-architecture default */
} SkPolicy;

/* The allowed ranges. No guest can use more spare ports than its root-port cap, and no cap can
 * exceed what pcie-root's 31 slots x 8 functions leave for controllers and devices. */
#define SK_POLICY_SPARE_PORTS_MAX 64
#define SK_POLICY_ROOT_PORT_CAP_MAX 240
#define SK_POLICY_SPARE_PORTS_DEFAULT 4
#define SK_POLICY_ROOT_PORT_CAP_X86 14     /* I/O space; QEMU #641; virt-manager's total */
#define SK_POLICY_ROOT_PORT_CAP_DEFAULT 28 /* aarch64, riscv: no I/O-space limit */

/* 4 spare ports, lazy legacy bridge, the per-architecture cap. */
void sk_policy_init(SkPolicy *policy);
/* The root-port cap in force for @arch: the policy's value, else 14 on x86, 28 elsewhere. */
guint sk_policy_root_port_cap(const SkPolicy *policy, const char *arch);

/* Range checks: SK_ERROR_INVALID_ARGUMENT "spare-ports must be between 0 and 64, not 70".
 * Signed, so that a negative number from a command line gets the same message. */
gboolean sk_policy_check_spare_ports(gint64 value, GError **error);
gboolean sk_policy_check_root_port_cap(gint64 value, GError **error);

const char *sk_legacy_bridge_to_string(SkLegacyBridge mode);
/* Parses lazy, eager or never; SK_ERROR_INVALID_ARGUMENT naming the value otherwise. */
gboolean sk_legacy_bridge_from_string(const char *str, SkLegacyBridge *mode, GError **error);

G_END_DECLS
