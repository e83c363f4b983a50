/* slotkeeper planner benchmark: a q35 domain with ~200 devices and 200+ root ports. Prints
 * per-operation timings and their ratio to a raw libxml2 parse of the same document, measured in
 * the same run (machines are shared and noisy; ratios travel better than absolute numbers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "sk-device.h"
#include "sk-edit.h"
#include "sk-planner.h"
#include "sk-topology.h"
#include "sk-xml.h"

#define SK_BENCH_PORTS 216 /* 27 slots x 8 functions on pcie-root */
#define SK_BENCH_DEVICES 200

static char *
sk_bench_domain_xml(void)
{
    GString *xml = g_string_new(NULL);
    guint port = 0;

    g_string_append(xml, "<domain type='qemu' id='7'>\n  <name>bench</name>\n"
                         "  <uuid>6f1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8</uuid>\n"
                         "  <memory unit='KiB'>1048576</memory>\n"
                         "  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os>\n"
                         "  <features><acpi/></features>\n  <devices>\n"
                         "    <controller type='pci' index='0' model='pcie-root'/>\n");
    for (guint slot = 1; slot < 0x1f && port < SK_BENCH_PORTS; slot++) {
        for (guint fn = 0; fn < 8 && port < SK_BENCH_PORTS; fn++) {
            port++;
            g_string_append_printf(
                xml,
                "    <controller type='pci' index='%u' model='pcie-root-port'>\n"
                "      <model name='pcie-root-port'/>\n"
                "      <target chassis='%u' port='0x%x'/>\n"
                "      <address type='pci' domain='0x0000' bus='0x00' slot='0x%02x' "
                "function='0x%x'%s/>\n    </controller>\n",
                port, port, (slot << 3) | fn, slot, fn, fn == 0 ? " multifunction='on'" : "");
        }
    }
    for (guint i = 0; i < SK_BENCH_DEVICES; i++) {
        guint bus = i + 1;

        if (i % 2 == 0)
            g_string_append_printf(
                xml,
                "    <interface type='network'>\n      <mac address='52:54:00:00:%02x:%02x'/>\n"
                "      <source network='default'/>\n      <model type='virtio'/>\n"
                "      <address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' "
                "function='0x0'/>\n    </interface>\n",
                i / 256, i % 256, bus);
        else
            g_string_append_printf(
                xml,
                "    <disk type='file' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
                "      <source file='/var/lib/libvirt/images/d%u.img'/>\n"
                "      <target dev='vd%c%c' bus='virtio'/>\n"
                "      <address type='pci' domain='0x0000' bus='0x%02x' slot='0x00' "
                "function='0x0'/>\n    </disk>\n",
                i, 'a' + (i / 26) % 26, 'a' + i % 26, bus);
    }
    g_string_append(xml, "  </devices>\n</domain>\n");
    return g_string_free(xml, FALSE);
}

static int
sk_bench_cmp(const void *a, const void *b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

    return (x > y) - (x < y);
}

typedef void (*SkBenchFunc)(gpointer data);

/* Median microseconds per call over @rounds rounds of @inner calls. */
static double
sk_bench_run(const char *label, SkBenchFunc func, gpointer data, guint rounds, guint inner)
{
    g_autofree gint64 *samples = g_new(gint64, rounds);
    double median;

    for (guint r = 0; r < rounds; r++) {
        gint64 start = g_get_monotonic_time();

        for (guint i = 0; i < inner; i++)
            func(data);
        samples[r] = g_get_monotonic_time() - start;
    }
    qsort(samples, rounds, sizeof(gint64), sk_bench_cmp);
    median = (double)samples[rounds / 2] / inner;
    printf("%-44s %10.1f us/op  (min %.1f, max %.1f)\n", label, median, (double)samples[0] / inner,
           (double)samples[rounds - 1] / inner);
    return median;
}

typedef struct {
    const char *xml;
    gsize len;
    SkTopology *topo;
    SkDevice *dev;
    SkPlanOptions opts;
} SkBench;

static void
sk_bench_raw_parse(gpointer data)
{
    SkBench *b = data;
    xmlDoc *doc = xmlReadMemory(b->xml, (int)b->len, NULL, NULL, XML_PARSE_NONET);

    xmlFreeDoc(doc);
}

static void
sk_bench_parse(gpointer data)
{
    SkBench *b = data;
    g_autoptr(SkTopology) topo = sk_topology_new_from_xml(b->xml, b->len, NULL);

    g_assert(topo != NULL);
}

static void
sk_bench_plan(gpointer data)
{
    SkBench *b = data;
    g_autoptr(SkPlan) plan = sk_plan_attach(b->topo, b->topo, b->dev, &b->opts, NULL);

    g_assert(plan != NULL && !plan->refused);
}

static void
sk_bench_reserve(gpointer data)
{
    SkBench *b = data;
    g_autoptr(SkPlan) plan = sk_plan_reserve(b->topo, &b->opts.policy, NULL);

    g_assert(plan != NULL);
}

static void
sk_bench_classify(gpointer data)
{
    SkBench *b = data;
    static const char nic[] = "<interface type='network'><source network='default'/>"
                              "<model type='virtio'/></interface>";
    g_autoptr(SkDevice) dev =
        sk_device_new_from_xml(nic, sizeof(nic) - 1, sk_topology_get_machine_info(b->topo), NULL);

    g_assert(dev != NULL);
}

static void
sk_bench_apply(gpointer data)
{
    SkBench *b = data;
    g_autoptr(SkPlan) plan = sk_plan_attach(b->topo, b->topo, b->dev, &b->opts, NULL);
    g_autoptr(xmlDoc) doc = sk_edit_apply_plan(sk_topology_get_doc(b->topo), plan, b->dev, NULL);

    g_assert(doc != NULL);
}

int
main(int argc, char **argv)
{
    static const char nic[] = "<interface type='network'><source network='default'/>"
                              "<model type='virtio'/></interface>";
    g_autofree char *xml = sk_bench_domain_xml();
    g_autoptr(GError) error = NULL;
    SkBench b = { xml, strlen(xml), NULL, NULL, { 0 } };
    guint rounds = argc > 1 ? (guint)atoi(argv[1]) : 21;
    double raw, parse, plan;

    if (rounds < 3)
        rounds = 3;
    b.topo = sk_topology_new_from_xml(xml, b.len, &error);
    if (b.topo == NULL) {
        fprintf(stderr, "sk-bench: %s\n", error->message);
        return 1;
    }
    b.dev =
        sk_device_new_from_xml(nic, sizeof(nic) - 1, sk_topology_get_machine_info(b.topo), &error);
    if (b.dev == NULL) {
        fprintf(stderr, "sk-bench: %s\n", error->message);
        return 1;
    }
    sk_plan_options_init(&b.opts);
    b.opts.live = b.opts.config = TRUE;
    b.opts.policy.root_port_cap = 240;

    printf("domain: %" G_GSIZE_FORMAT " bytes, %u controllers, %u occupied addresses\n", b.len,
           sk_topology_get_n_controllers(b.topo), sk_topology_get_n_occupants(b.topo));
    raw = sk_bench_run("baseline: libxml2 parse of the domain XML", sk_bench_raw_parse, &b, rounds,
                       20);
    parse = sk_bench_run("parse domain XML into a topology", sk_bench_parse, &b, rounds, 20);
    sk_bench_run("classify a device XML", sk_bench_classify, &b, rounds, 2000);
    plan = sk_bench_run("plan attach (virtio NIC, live+config)", sk_bench_plan, &b, rounds, 200);
    sk_bench_run("plan reserve (4 spares, cap 240)", sk_bench_reserve, &b, rounds, 200);
    sk_bench_run("plan attach + apply to a copy of the XML", sk_bench_apply, &b, rounds, 20);
    printf("ratios: parse/raw %.2f, plan/raw %.3f\n", parse / raw, plan / raw);
    printf("plan per operation: %.1f us (target: under 1000 us)\n", plan);
    sk_device_free(b.dev);
    sk_topology_free(b.topo);
    return 0;
}
