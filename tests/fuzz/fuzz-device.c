/* slotkeeper: libFuzzer target for the device classifier, the planner and the editor. The first
 * input byte picks one of a few real domain fixtures (tests/data) and the policy; the rest is
 * the device XML. Each device is planned as an attach with hotplug required and not, and the
 * domain is planned for reserve; every successful plan is applied with the editor. */
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>

#include "sk-device.h"
#include "sk-edit.h"
#include "sk-planner.h"
#include "sk-topology.h"
#include "sk-xml.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Real libvirt output covering q35 (plain, full, switch, legacy chain, hotplug off, live), pc
 * (with and without ACPI, with a bridge) and aarch64 virt (with virtio-mmio). */
static const char *const sk_fuzz_fixtures[] = {
    "q35-default.xml",      "q35-full.xml",        "q35-root-full.xml", "q35-switch.xml",
    "q35-legacy-chain.xml", "q35-hotplug-off.xml", "q35-live.xml",      "pc-default.xml",
    "pc-bridge.xml",        "pc-noacpi.xml",       "virt-aarch64.xml",  "virt-aarch64-mmio.xml",
};
#define SK_FUZZ_N_FIXTURES G_N_ELEMENTS(sk_fuzz_fixtures)

static SkTopology *sk_fuzz_topos[SK_FUZZ_N_FIXTURES];

static void
sk_fuzz_log_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    /* g_return_if_fail() in the core is a bug for any input, so it must crash here. */
    if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR))
        g_error("%s: %s", domain ? domain : "", message);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = g_getenv("SK_TEST_DATA");

    xmlInitParser();
    g_log_set_default_handler(sk_fuzz_log_handler, NULL);
    if (dir == NULL)
        dir = SK_FUZZ_DATA_DIR;
    for (gsize i = 0; i < SK_FUZZ_N_FIXTURES; i++) {
        g_autofree char *path = g_build_filename(dir, sk_fuzz_fixtures[i], NULL);
        g_autoptr(GError) error = NULL;

        /* Parsed once: the planner and the editor take the topology read-only. */
        sk_fuzz_topos[i] = sk_topology_new_from_file(path, &error);
        if (sk_fuzz_topos[i] == NULL)
            g_error("fuzz-device: cannot load fixture %s: %s", path, error->message);
    }
    return 0;
}

static void
sk_fuzz_apply(const SkTopology *topo, const SkPlan *plan, const SkDevice *dev)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *text = NULL;

    if (plan->refused) {
        g_assert(plan->refusal != NULL);
        g_assert(!sk_plan_check(plan, &error));
        return;
    }
    g_assert(sk_plan_check(plan, NULL));
    for (guint i = 0; i < plan->reasons->len; i++)
        g_assert(plan->reasons->pdata[i] != NULL);
    if (dev != NULL && plan->has_address) {
        g_autofree char *xml = sk_device_to_xml(dev, &plan->address);
        g_autofree char *addr = sk_pci_addr_format(&plan->address);

        g_assert(xml != NULL && addr != NULL);
    }
    if (sk_topology_is_live(topo))
        return; /* the editor only writes persistent definitions */
    doc = sk_edit_apply_plan(sk_topology_get_doc(topo), plan, dev, &error);
    if (doc == NULL) {
        g_assert(error != NULL);
        return;
    }
    text = sk_xml_doc_to_string(doc);
    g_assert(text != NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const SkTopology *topo;
    g_autoptr(GError) error = NULL;
    g_autoptr(SkDevice) dev = NULL;
    SkPolicy policy;
    guint8 pick;

    if (size < 2)
        return 0;
    pick = data[0];
    topo = sk_fuzz_topos[(pick & 0x0f) % SK_FUZZ_N_FIXTURES];
    sk_policy_init(&policy);
    policy.legacy_bridge = (SkLegacyBridge)((pick >> 4) % 3);
    policy.spare_ports = (pick >> 6) * 3; /* 0, 3, 6, 9 */
    dev = sk_device_new_from_xml((const char *)data + 1, size - 1,
                                 sk_topology_get_machine_info(topo), &error);
    if (dev == NULL) {
        g_assert(error != NULL && error->message != NULL);
    } else {
        g_autofree char *xml = sk_device_to_xml(dev, NULL);

        g_assert(dev->element != NULL && dev->description != NULL && xml != NULL);
        for (int require = 0; require < 2; require++) {
            g_autoptr(GError) perr = NULL;
            g_autoptr(SkPlan) plan = NULL;
            SkPlanOptions opts;

            sk_plan_options_init(&opts);
            opts.policy = policy;
            opts.hotplug_require = require;
            opts.live = sk_topology_is_live(topo);
            opts.config = TRUE;
            plan = sk_plan_attach(topo, opts.live ? topo : NULL, dev, &opts, &perr);
            if (plan == NULL)
                g_assert(perr != NULL);
            else
                sk_fuzz_apply(topo, plan, dev);
        }
    }
    if (!sk_topology_is_live(topo)) {
        g_autoptr(GError) rerr = NULL;
        g_autoptr(SkPlan) plan = sk_plan_reserve_full(topo, &policy, pick & 1, &rerr);

        if (plan == NULL)
            g_assert(rerr != NULL);
        else
            sk_fuzz_apply(topo, plan, NULL);
    }
    return 0;
}
