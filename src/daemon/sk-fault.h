/* slotkeeperd: test-only fault injection, for the crash tests (tests/daemon/test_faults.py).
 * With SK_TEST_CRASH_AT=<point> in the environment at start-up the service kills itself with
 * SIGKILL when it reaches that point, and a restart must repair what the crash left:
 *   attach-controllers-defined  the attach's new controllers are defined, the device is not
 *                               attached yet
 *   attach-recorded             the hotplug-require=no record is stored, the device is not
 *                               attached yet
 *   attach-attached             the device is attached (live and persistent, one libvirt call),
 *                               before the record's cleanup, the reply and the spare top-up
 *   reconcile-before-define     a spare top-up is about to be defined
 *   reconcile-defined           a spare top-up is defined, before its event and reply
 * SK_TEST_CRASH_AT=<point>@<domain name> limits it to that domain's operations (tests share
 * libvirtd with other users). Unset (always, outside tests) it costs a pointer comparison. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads the variable; call on the main thread before any worker starts. */
void sk_fault_init(void);
/* Kills the process when @point (in domain @domain) is the one asked for. */
void sk_fault_point(const char *point, const char *domain);

G_END_DECLS
