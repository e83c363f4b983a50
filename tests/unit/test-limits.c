/* Unit tests for the limits on hostile input (sk-xml.h): size, nesting, element and attribute
 * counts, attribute lengths, DOCTYPE/entities in any encoding, several top-level elements, and
 * PCI addresses out of range. Each limit is tested at the limit (accepted) and one past it. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sk-device.h"
#include "sk-error.h"
#include "sk-topology.h"
#include "sk-xml.h"

static const SkMachineInfo q35 = { "x86_64", "pc-q35-7.2", SK_MACHINE_Q35, TRUE, FALSE };

static void
expect_device_error(const char *xml, gsize len, int code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkDevice) dev = sk_device_new_from_xml(xml, len, &q35, &error);

    g_assert_null(dev);
    g_assert_error(error, SK_ERROR, code);
    g_assert_true(g_utf8_validate(error->message, -1, NULL));
    g_assert_cmpuint(strlen(error->message), <, 1024);
    if (fragment != NULL && strstr(error->message, fragment) == NULL)
        g_error("error '%s' does not mention '%s'", error->message, fragment);
}

static void
expect_device_ok(const char *xml, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkDevice) dev = sk_device_new_from_xml(xml, len, &q35, &error);

    g_assert_no_error(error);
    g_assert_nonnull(dev);
}

/* An <interface> whose <model> nests @depth elements deep in all (the root is depth 1). */
static char *
nested_device(guint depth)
{
    GString *s = g_string_new("<interface type='user'><model type='virtio'/>");

    for (guint i = 2; i <= depth; i++)
        g_string_append(s, "<x>");
    for (guint i = 2; i <= depth; i++)
        g_string_append(s, "</x>");
    g_string_append(s, "</interface>");
    return g_string_free(s, FALSE);
}

static void
test_device_depth(void)
{
    g_autofree char *ok = nested_device(SK_XML_DEVICE_MAX_DEPTH);
    g_autofree char *deep = nested_device(SK_XML_DEVICE_MAX_DEPTH + 1);
    g_autofree char *deeper = nested_device(1000); /* beyond libxml2's own 256 */

    expect_device_ok(ok, strlen(ok));
    expect_device_error(deep, strlen(deep), SK_ERROR_INVALID_ARGUMENT, "depth 33 (limit 32)");
    expect_device_error(deeper, strlen(deeper), SK_ERROR_INVALID_ARGUMENT, "(limit 32)");
}

static char *
many_elements(guint n)
{
    GString *s = g_string_new("<interface type='user'><model type='virtio'/>");

    for (guint i = 2; i < n; i++)
        g_string_append(s, "<a/>");
    g_string_append(s, "</interface>");
    return g_string_free(s, FALSE);
}

static void
test_device_elements(void)
{
    g_autofree char *ok = many_elements(sk_xml_device_limits.max_elements);
    g_autofree char *many = many_elements(sk_xml_device_limits.max_elements + 1);

    expect_device_ok(ok, strlen(ok));
    expect_device_error(many, strlen(many), SK_ERROR_INVALID_ARGUMENT,
                        "too many elements: more than 1024 (limit 1024)");
}

static char *
many_attributes(guint n)
{
    GString *s = g_string_new("<interface type='user'");

    for (guint i = 1; i < n; i++)
        g_string_append_printf(s, " a%u='x'", i);
    g_string_append(s, "><model type='virtio'/></interface>");
    return g_string_free(s, FALSE);
}

static void
test_device_attributes(void)
{
    g_autofree char *ok = many_attributes(sk_xml_device_limits.max_attributes);
    g_autofree char *many = many_attributes(sk_xml_device_limits.max_attributes + 1);

    expect_device_ok(ok, strlen(ok));
    expect_device_error(many, strlen(many), SK_ERROR_INVALID_ARGUMENT,
                        "<interface> has too many attributes: 65 (limit 64)");
}

static char *
long_attribute(gsize len)
{
    g_autofree char *value = g_strnfill(len, 'v');

    return g_strdup_printf("<interface type='user'><model type='virtio'/>"
                           "<alias name='%s'/></interface>",
                           value);
}

static void
test_device_attribute_length(void)
{
    g_autofree char *ok = long_attribute(sk_xml_device_limits.max_attribute_len);
    g_autofree char *huge = long_attribute(sk_xml_device_limits.max_attribute_len + 1);
    g_autofree char *value = g_strnfill(5000, 'v');
    g_autofree char *typed = g_strdup_printf("<interface type='%s'/>", value);

    expect_device_ok(ok, strlen(ok));
    expect_device_error(huge, strlen(huge), SK_ERROR_INVALID_ARGUMENT,
                        "attribute 'name' of <alias> is too long: 4097 bytes (limit 4096)");
    expect_device_error(typed, strlen(typed), SK_ERROR_INVALID_ARGUMENT, "(limit 4096)");
}

static void
test_device_size(void)
{
    /* Whitespace padding: well-formed, so only the size limit can refuse it. */
    const char *head = "<interface type='user'><model type='virtio'/>";
    const char *tail = "</interface>";
    gsize pad = SK_XML_DEVICE_MAX_SIZE - strlen(head) - strlen(tail);
    g_autofree char *spaces = g_strnfill(pad, ' ');
    g_autofree char *ok = g_strconcat(head, spaces, tail, NULL);
    g_autofree char *big = g_strconcat(head, spaces, " ", tail, NULL);
    g_autofree char *fragment = g_strdup_printf("too large: %d bytes (limit %d)",
                                                SK_XML_DEVICE_MAX_SIZE + 1, SK_XML_DEVICE_MAX_SIZE);
    g_autofree char *dir = g_dir_make_tmp("sk-limits-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "big.xml", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SkDevice) dev = NULL;

    g_assert_cmpuint(strlen(ok), ==, SK_XML_DEVICE_MAX_SIZE);
    expect_device_ok(ok, strlen(ok));
    expect_device_error(big, strlen(big), SK_ERROR_INVALID_ARGUMENT, fragment);

    /* The same limit for DEVICE.xml files (slotkeeper plan --domain-xml ... DEVICE.xml). */
    g_assert_true(g_file_set_contents(path, big, -1, NULL));
    dev = sk_device_new_from_file(path, &q35, &error);
    g_assert_null(dev);
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "(limit 65536)"));
    g_unlink(path);
    g_rmdir(dir);
}

static void
test_device_structure(void)
{
    /* Several top-level elements, trailing junk, no element at all, unknown elements. */
    expect_device_error("<interface type='user'/><interface type='user'/>", 48,
                        SK_ERROR_INVALID_XML, "Extra content");
    expect_device_error("<interface type='user'/>junk", 28, SK_ERROR_INVALID_XML, NULL);
    expect_device_error("<!-- only a comment -->", 23, SK_ERROR_INVALID_XML, NULL);
    expect_device_error("<domain/>", 9, SK_ERROR_INVALID_DEVICE, "unknown device element");
    expect_device_error("<devices><interface type='user'/></devices>", 43, SK_ERROR_INVALID_DEVICE,
                        "devices");
    /* libxml2 would stop at an embedded NUL and ignore what follows. */
    expect_device_error("<interface type='user'/>\0<disk/>", 32, SK_ERROR_INVALID_XML,
                        "NUL byte (at byte 24)");
}

static void
test_entities(void)
{
    static const char *const hostile[] = {
        "<!DOCTYPE interface SYSTEM \"file:///etc/passwd\"><interface type='user'/>",
        ("<!DOCTYPE i [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><interface type='user'>"
         "<alias name='&x;'/></interface>"),
        "<!DOCTYPE i [<!ENTITY x SYSTEM \"http://127.0.0.1:9/\">]><interface>&x;</interface>",
        "<!DOCTYPE i [<!ENTITY a 'aaaa'><!ENTITY b '&a;&a;&a;&a;'>]><interface>&b;</interface>",
        "<?xml version='1.0'?><!DOCTYPE i PUBLIC 'x' 'http://127.0.0.1:9/x.dtd'><interface/>",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++)
        expect_device_error(hostile[i], strlen(hostile[i]), SK_ERROR_INVALID_XML, "DOCTYPE");
    /* An entity reference without a DOCTYPE is simply undefined. */
    expect_device_error("<interface type='&x;'/>", 23, SK_ERROR_INVALID_XML, NULL);
}

/* Regression: the byte search for "<!DOCTYPE" misses it in UTF-7 (and other encodings libxml2
 * converts); the parser hook must stop at the DOCTYPE itself, before the internal subset is
 * read. The subset here is malformed, so without the hook the error would be a parse error. */
static void
test_entities_encoded(void)
{
    static const char *const hostile[] = {
        "<?xml version='1.0' encoding='UTF-7'?>\n+ADw-+ACE-DOCTYPE i +AFs-+ADw-+ACE-ENTITY",
        ("<?xml version='1.0' encoding='UTF-7'?>\n+ADw-+ACE-DOCTYPE i SYSTEM "
         "'file:///etc/passwd'+AD4-<interface/>"),
    };

    for (gsize i = 0; i < G_N_ELEMENTS(hostile); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = sk_xml_parse_limited(hostile[i], strlen(hostile[i]), "device XML",
                                                     &sk_xml_device_limits, &error);

        g_assert_null(doc);
        g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_XML);
        if (strstr(error->message, "DOCTYPE") == NULL)
            g_error("error '%s' does not mention DOCTYPE", error->message);
    }
}

static void
expect_address_error(const char *field, const char *value)
{
    g_autofree char *xml = g_strdup_printf(
        "<interface type='user'><model type='virtio'/><address type='pci' %s='%s'/></interface>",
        field, value);
    g_autofree char *fragment = g_strdup_printf("%s=", field);

    expect_device_error(xml, strlen(xml), SK_ERROR_INVALID_ADDRESS, fragment);
}

static void
test_addresses(void)
{
    static const struct {
        const char *field;
        const char *ok;
        const char *bad;
    } ranges[] = {
        { "domain", "0xffff", "0x10000" },
        { "bus", "0xff", "0x100" },
        { "slot", "0x1f", "0x20" },
        { "function", "7", "8" },
    };
    static const char *const junk[] = {
        "0xzz",
        "-1",
        "+1",
        " 1",
        "1 ",
        "0x",
        "",
        "1e3",
        "0x1g",
        "4294967296",
        "99999999999999999999",
        "0x-1",
        "١",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(ranges); i++) {
        g_autofree char *xml = g_strdup_printf("<interface type='user'><model type='virtio'/>"
                                               "<address type='pci' %s='%s'/></interface>",
                                               ranges[i].field, ranges[i].ok);

        expect_device_ok(xml, strlen(xml));
        expect_address_error(ranges[i].field, ranges[i].bad);
        for (gsize j = 0; j < G_N_ELEMENTS(junk); j++)
            expect_address_error(ranges[i].field, junk[j]);
    }
}

static char *
domain_with(const char *devices_extra)
{
    return g_strdup_printf("<domain type='kvm'><name>x</name><os><type arch='x86_64' "
                           "machine='pc-q35-7.2'>hvm</type></os><devices>"
                           "<controller type='pci' index='0' model='pcie-root'/>%s"
                           "</devices></domain>",
                           devices_extra);
}

static void
expect_domain_error(const char *xml, gsize len, int code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) topo = sk_topology_new_from_xml(xml, len, &error);

    g_assert_null(topo);
    g_assert_error(error, SK_ERROR, code);
    if (fragment != NULL && strstr(error->message, fragment) == NULL)
        g_error("error '%s' does not mention '%s'", error->message, fragment);
}

static void
test_domain_limits(void)
{
    g_autoptr(GString) deep = g_string_new("<metadata>");
    g_autoptr(GString) many = g_string_new("");
    g_autofree char *deep_xml = NULL;
    g_autofree char *many_xml = NULL;
    g_autofree char *big = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) ok = NULL;

    /* Nesting: <domain><devices><metadata> + 126 <x> = depth 129. */
    for (guint i = 0; i < 126; i++)
        g_string_append(deep, "<x>");
    for (guint i = 0; i < 126; i++)
        g_string_append(deep, "</x>");
    g_string_append(deep, "</metadata>");
    deep_xml = domain_with(deep->str);
    expect_domain_error(deep_xml, strlen(deep_xml), SK_ERROR_INVALID_ARGUMENT,
                        "depth 129 (limit 128)");

    for (guint i = 0; i < sk_xml_domain_limits.max_elements; i++)
        g_string_append(many, "<a/>");
    many_xml = domain_with(many->str);
    expect_domain_error(many_xml, strlen(many_xml), SK_ERROR_INVALID_ARGUMENT,
                        "more than 200000 (limit 200000)");

    big = g_strnfill(SK_XML_MAX_SIZE + 1, ' ');
    memcpy(big, "<domain/>", 9);
    expect_domain_error(big, SK_XML_MAX_SIZE + 1, SK_ERROR_INVALID_ARGUMENT,
                        "too large: 10485761 bytes (limit 10485760)");

    /* The first 9 bytes alone are a (minimal) domain: only the size was refused. */
    ok = sk_topology_new_from_xml(big, 9, &error);
    g_assert_no_error(error);
    g_assert_nonnull(ok);
}

static void
test_excerpt(void)
{
    g_autofree char *shortstr = sk_xml_excerpt("abc", 64);
    g_autofree char *cut = sk_xml_excerpt("äöüäöü", 4);
    g_autofree char *invalid = sk_xml_excerpt("a\xff\xfe"
                                              "b",
                                              64);
    g_autofree char *null = sk_xml_excerpt(NULL, 64);

    g_assert_cmpstr(shortstr, ==, "abc");
    g_assert_cmpstr(cut, ==, "äöüä...");
    g_assert_true(g_utf8_validate(invalid, -1, NULL));
    g_assert_cmpstr(null, ==, "");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/limits/device-depth", test_device_depth);
    g_test_add_func("/limits/device-elements", test_device_elements);
    g_test_add_func("/limits/device-attributes", test_device_attributes);
    g_test_add_func("/limits/device-attribute-length", test_device_attribute_length);
    g_test_add_func("/limits/device-size", test_device_size);
    g_test_add_func("/limits/device-structure", test_device_structure);
    g_test_add_func("/limits/entities", test_entities);
    g_test_add_func("/limits/entities-encoded", test_entities_encoded);
    g_test_add_func("/limits/addresses", test_addresses);
    g_test_add_func("/limits/domain", test_domain_limits);
    g_test_add_func("/limits/excerpt", test_excerpt);
    return g_test_run();
}
