/* Unit tests for the service core (src/daemon/sk-service.c) without any bus: the service runs
 * against libvirt's in-process test driver (test:///default, whose state every connection of
 * this process shares), and the test watches its GObject signals and submits requests the way
 * the D-Bus front end does. */
#include <libvirt-glib/libvirt-glib.h>
#include <libvirt/libvirt.h>
#include <string.h>

#include "sk-error.h"
#include "sk-service.h"

#define URI "test:///default"
#define TIMEOUT_S 20

typedef struct {
    SkService *service;
    virConnectPtr conn; /* the test's own connection, for defining domains */
    GPtrArray *added;   /* names, in order */
    GPtrArray *changed; /* names */
    GPtrArray *removed; /* uuids */
    GPtrArray *events;  /* "kind domain" */
    guint ready;
    gboolean ready_had_all_facts;
} Fixture;

static void
on_added(SkService *service, const SkDomainInfo *info, Fixture *f)
{
    /* A domain is announced with what libvirt says, never with placeholders. */
    g_assert_nonnull(info->state);
    g_assert_cmpstr(info->state, !=, "unknown");
    g_assert_nonnull(info->uuid);
    g_ptr_array_add(f->added, g_strdup(info->name));
}

static void
on_changed(SkService *service, const SkDomainInfo *info, Fixture *f)
{
    g_ptr_array_add(f->changed, g_strdup(info->name));
}

static void
on_removed(SkService *service, const char *uuid, Fixture *f)
{
    g_ptr_array_add(f->removed, g_strdup(uuid));
}

static void
on_event(SkService *service, const SkServiceEvent *ev, Fixture *f)
{
    g_ptr_array_add(f->events, g_strdup_printf("%s %s", ev->kind, ev->domain));
}

static void
on_ready(SkService *service, Fixture *f)
{
    g_autoptr(GPtrArray) domains = sk_service_list_domains(service);
    int n = virConnectNumOfDomains(f->conn) + virConnectNumOfDefinedDomains(f->conn);

    f->ready++;
    f->ready_had_all_facts = (int)domains->len == n;
}

static gboolean
on_timeout(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Iterates the main context until @cond(@data) holds; fails the test after TIMEOUT_S. */
static void
wait_for(gboolean (*cond)(gpointer), gpointer data, const char *what)
{
    gboolean expired = FALSE;
    guint id = g_timeout_add_seconds(TIMEOUT_S, on_timeout, &expired);

    while (!cond(data) && !expired)
        g_main_context_iteration(NULL, TRUE);
    if (expired)
        g_error("timed out waiting for %s", what);
    g_source_remove(id);
}

static gboolean
is_ready(gpointer data)
{
    return ((Fixture *)data)->ready > 0;
}

static const char *q35_xml_head = "<domain type='test'><name>";
static const char *q35_xml_tail =
    "</name><memory>131072</memory>"
    "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
    "<devices><controller type='pci' index='0' model='pcie-root'/>"
    "<controller type='pci' index='1' model='pcie-root-port'>"
    "<model name='pcie-root-port'/><target chassis='1' port='0x10'/>"
    "<address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/></controller>"
    "<interface type='user'><mac address='52:54:00:00:00:01'/><model type='virtio'/>"
    "<address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/></interface>"
    "</devices></domain>";

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
    SkConfig config;

    sk_config_init(&config);
    config.rescan_seconds = 0;
    f->conn = virConnectOpen(URI);
    g_assert_nonnull(f->conn);
    f->added = g_ptr_array_new_with_free_func(g_free);
    f->changed = g_ptr_array_new_with_free_func(g_free);
    f->removed = g_ptr_array_new_with_free_func(g_free);
    f->events = g_ptr_array_new_with_free_func(g_free);
    f->service = sk_service_new(&config, URI, NULL);
    g_signal_connect(f->service, "domain-added", G_CALLBACK(on_added), f);
    g_signal_connect(f->service, "domain-changed", G_CALLBACK(on_changed), f);
    g_signal_connect(f->service, "domain-removed", G_CALLBACK(on_removed), f);
    g_signal_connect(f->service, "event", G_CALLBACK(on_event), f);
    g_signal_connect(f->service, "ready", G_CALLBACK(on_ready), f);
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
    g_clear_object(&f->service);
    virConnectClose(f->conn);
    g_ptr_array_unref(f->added);
    g_ptr_array_unref(f->changed);
    g_ptr_array_unref(f->removed);
    g_ptr_array_unref(f->events);
}

static virDomainPtr
define_q35(Fixture *f, const char *name)
{
    g_autofree char *xml = g_strconcat(q35_xml_head, name, q35_xml_tail, NULL);
    virDomainPtr dom = virDomainDefineXML(f->conn, xml);

    g_assert_nonnull(dom);
    return dom;
}

/* ---- requests ---- */

typedef struct {
    gboolean done;
    SkResult *result;
    GError *error;
} Reply;

static void
on_reply(GObject *source, GAsyncResult *res, gpointer data)
{
    Reply *r = data;

    r->result = sk_service_submit_finish(SK_SERVICE(source), res, &r->error);
    r->done = TRUE;
}

static gboolean
reply_done(gpointer data)
{
    return ((Reply *)data)->done;
}

static void
submit(Fixture *f, const char *uuid, SkRequest *req, Reply *r)
{
    memset(r, 0, sizeof(*r));
    sk_service_submit(f->service, uuid, req, NULL, on_reply, r);
    wait_for(reply_done, r, "the reply");
}

static void
reply_clear(Reply *r)
{
    g_clear_pointer(&r->result, sk_result_free);
    g_clear_error(&r->error);
}

/* ---- tests ---- */

typedef struct {
    Fixture *f;
    const char *name;
    guint min_free;
} Facts;

static gboolean
has_facts(gpointer data)
{
    Facts *w = data;
    const SkDomainInfo *info = sk_service_lookup(w->f->service, w->name);

    return info != NULL && info->free_pcie_next >= w->min_free;
}

static void
test_ready_after_facts(Fixture *f, gconstpointer data)
{
    g_autoptr(GPtrArray) domains = NULL;

    sk_service_start(f->service);
    /* Connected to libvirt, but "connected" waits until every listed domain is read. */
    g_assert_false(sk_service_get_connected(f->service));
    wait_for(is_ready, f, "ready");
    g_assert_true(sk_service_get_connected(f->service));
    g_assert_cmpuint(f->ready, ==, 1);
    g_assert_true(f->ready_had_all_facts);
    domains = sk_service_list_domains(f->service);
    g_assert_cmpuint(domains->len, >=, 1);
    /* The test driver's own running domain, as libvirt describes it. */
    const SkDomainInfo *test = sk_service_lookup(f->service, "test");
    g_assert_nonnull(test);
    g_assert_cmpstr(test->state, ==, "running");
    g_assert_true(test->active);
    g_assert_true(test->persistent);
    g_assert_true(test->pci_machine);
    g_assert_cmpstr(sk_service_lookup(f->service, test->uuid)->name, ==, "test");
}

static void
test_new_domain_gets_spares(Fixture *f, gconstpointer data)
{
    virDomainPtr dom;
    char uuid[VIR_UUID_STRING_BUFLEN];
    Facts want = { f, "sk-unit-spares", 4 };
    const SkDomainInfo *info;
    g_autofree char *xml = NULL;

    sk_service_start(f->service);
    wait_for(is_ready, f, "ready");
    dom = define_q35(f, want.name);
    virDomainGetUUIDString(dom, uuid);
    wait_for(has_facts, &want, "spares in the new domain");
    info = sk_service_lookup(f->service, want.name);
    g_assert_true(info->managed);
    g_assert_false(info->active);
    g_assert_cmpstr(info->state, ==, "shut-off");
    g_assert_cmpuint(info->free_pcie_next, ==, 4);
    /* What the facts say is what libvirt holds. */
    xml = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
    g_assert_nonnull(strstr(xml, "index='5'"));
    g_assert_null(strstr(xml, "index='6'"));
    g_assert_true(g_ptr_array_find_with_equal_func(f->added, want.name, g_str_equal, NULL));
    g_assert_true(g_ptr_array_find_with_equal_func(f->events, "reconciled sk-unit-spares",
                                                   g_str_equal, NULL));

    virDomainUndefine(dom);
    virDomainFree(dom);
    while (!g_ptr_array_find_with_equal_func(f->removed, uuid, g_str_equal, NULL))
        g_main_context_iteration(NULL, TRUE);
    g_assert_null(sk_service_lookup(f->service, want.name));
}

static void
test_requests(Fixture *f, gconstpointer data)
{
    virDomainPtr dom;
    char uuid[VIR_UUID_STRING_BUFLEN];
    Facts want = { f, "sk-unit-requests", 4 };
    SkRequest *req;
    Reply r;

    sk_service_start(f->service);
    wait_for(is_ready, f, "ready");
    dom = define_q35(f, want.name);
    virDomainGetUUIDString(dom, uuid);
    wait_for(has_facts, &want, "the domain's spares");

    /* Plan: a free spare port, nothing to add, the persistent definition only (shut off). */
    req = sk_request_new(SK_REQUEST_PLAN);
    req->xml = g_strdup("<interface type='user'><model type='virtio'/></interface>");
    submit(f, uuid, req, &r);
    g_assert_no_error(r.error);
    g_assert_false(r.result->plan->refused);
    g_assert_true(r.result->plan->has_address);
    g_assert_cmpuint(r.result->plan->address.bus, >=, 2);
    g_assert_cmpuint(r.result->plan->controllers->len, ==, 0);
    g_assert_false(r.result->live);
    g_assert_true(r.result->config);
    g_assert_cmpstr(r.result->device->element, ==, "interface");
    reply_clear(&r);

    /* The tree of the persistent definition. */
    req = sk_request_new(SK_REQUEST_TOPOLOGY);
    submit(f, uuid, req, &r);
    g_assert_no_error(r.error);
    g_assert_cmpuint(sk_topology_get_n_buses(r.result->topology), ==, 6);
    reply_clear(&r);

    /* A live change on a shut-off domain is refused, and says why. */
    req = sk_request_new(SK_REQUEST_PLAN);
    req->xml = g_strdup("<interface type='user'><model type='virtio'/></interface>");
    req->opts.live = TRUE;
    submit(f, uuid, req, &r);
    g_assert_error(r.error, SK_ERROR, SK_ERROR_FAILED);
    g_assert_nonnull(strstr(r.error->message, "not running"));
    reply_clear(&r);

    /* Bad device XML. */
    req = sk_request_new(SK_REQUEST_PLAN);
    req->xml = g_strdup("<interface type='user'><model type='virtio'/>");
    submit(f, uuid, req, &r);
    g_assert_error(r.error, SK_ERROR, SK_ERROR_INVALID_XML);
    reply_clear(&r);

    /* An unknown domain. */
    req = sk_request_new(SK_REQUEST_TOPOLOGY);
    submit(f, "00000000-0000-0000-0000-000000000000", req, &r);
    g_assert_error(r.error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN);
    reply_clear(&r);

    /* A policy change is applied before the reply: the facts show it. */
    req = sk_request_new(SK_REQUEST_SET_POLICY);
    req->policy = sk_metadata_new();
    req->policy->has_spare_ports = TRUE;
    req->policy->spare_ports = 6;
    submit(f, uuid, req, &r);
    g_assert_no_error(r.error);
    g_assert_cmpuint(sk_service_lookup(f->service, uuid)->policy.spare_ports, ==, 6);
    g_assert_cmpuint(sk_service_lookup(f->service, uuid)->free_pcie_next, ==, 6);
    reply_clear(&r);

    virDomainUndefine(dom);
    virDomainFree(dom);
}

static void
test_unreachable_uri(void)
{
    SkConfig config;
    g_autoptr(SkService) service = NULL;

    sk_config_init(&config);
    service = sk_service_new(&config, "test:///nonexistent/file.xml", NULL);
    g_test_expect_message("slotkeeperd", G_LOG_LEVEL_WARNING, "cannot connect to test:///*");
    sk_service_start(service);
    g_test_assert_expected_messages();
    /* Ready at once (nothing to read), not connected, and the reason is libvirt's. */
    g_assert_true(sk_service_get_ready(service));
    g_assert_false(sk_service_get_connected(service));
    g_assert_nonnull(strstr(sk_service_get_connect_error(service), "test:///nonexistent"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    gvir_init(&argc, &argv);
    gvir_event_register();
    g_test_add("/service/ready-after-facts", Fixture, NULL, fixture_set_up, test_ready_after_facts,
               fixture_tear_down);
    g_test_add("/service/new-domain-gets-spares", Fixture, NULL, fixture_set_up,
               test_new_domain_gets_spares, fixture_tear_down);
    g_test_add("/service/requests", Fixture, NULL, fixture_set_up, test_requests,
               fixture_tear_down);
    g_test_add_func("/service/unreachable-uri", test_unreachable_uri);
    return g_test_run();
}
