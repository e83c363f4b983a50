"""How the tests and benchmarks keep slotkeeperd to their own domains.

They share qemu:///system with whatever else runs on the host, so by default the service they
start manages only the domains that opt in through their <metadata> (the test domains do):
the service's config says manage=false and each test domain carries managed='yes'.
SK_DAEMON_MANAGE_ALL=1 runs the tests' service with the shipped default instead (every
persistent domain), to test that default on a host with nothing else on it.
"""

import os

from sknames import METADATA_NS

ISOLATED = os.environ.get("SK_DAEMON_MANAGE_ALL", "") not in ("1", "yes", "true")
ISOLATED_CONFIG = """[policy]
manage=false
"""


def config(isolated=ISOLATED):
    """The [policy] part of the service's config file."""
    return ISOLATED_CONFIG if isolated else ""


def metadata(isolated=ISOLATED, **attrs):
    """slotkeeper's <metadata> element for a test domain, with policy @attrs (managed,
    spare-ports, legacy-bridge); under an @isolated service it opts the domain in."""
    if not isolated and not attrs:
        return ""
    if isolated:
        attrs.setdefault("managed", "yes")
    text = " ".join(f"{k}='{v}'" for k, v in attrs.items())
    return f"<metadata><slotkeeper:policy xmlns:slotkeeper='{METADATA_NS}' {text}/></metadata>"
