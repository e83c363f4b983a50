"""The integration suite's helpers: the names its tests use (sktest.X), taken from the shared
library in tests/lib, plus what only this suite needs: its domain names and a runner of the
built slotkeeper CLI's offline verbs.

Every check reads libvirt's XML (or the guest's view), never slotkeeper's opinion of itself
(tests/lib/skpci.py recomputes free slots and addresses from it).
"""

import json
import os
import subprocess
import xml.etree.ElementTree as ET

import pytest

from skguest import make_image, scratch_dir
from sklibvirt import URI, domain_prefix, require_emulator
from skpaths import TEST_DATA
from skpci import (ROOT_PORT_CAP, SPARE_PORTS, Topology, address_map, assert_addresses_kept,
                   element_keys, fmt_addr, pci_address)
from skpci import parse_addr as parse_addr_string
from skrequire import have, unavailable
from skxml import nic, strip_for_redefine, virtio_disk

__all__ = [
    "PREFIX", "ROOT_PORT_CAP", "SPARE_PORTS", "STEM", "TEST_DATA", "URI", "Slotkeeper",
    "Topology", "address_map", "assert_addresses_kept", "element_keys", "fmt_addr", "have",
    "make_image", "nic", "parse_addr_string", "pci_address", "require_emulator",
    "scratch_dir", "strip_for_redefine", "unavailable", "virtio_disk",
]

# Every domain these tests define is named PREFIX... (tests/lib/sklibvirt.py: Domains).
STEM = "skit-p"
PREFIX = domain_prefix(STEM)


# ---- the CLI -------------------------------------------------------------------------------


class Slotkeeper:
    """Runs the built slotkeeper binary on XML text (written to numbered files in @workdir)."""

    def __init__(self, path, workdir):
        self.path = path
        self.workdir = workdir
        self.counter = 0

    def write(self, name, text):
        self.counter += 1
        path = os.path.join(self.workdir, f"{self.counter:03d}-{name}")
        with open(path, "w") as f:
            f.write(text)
        return path

    def run(self, *args, check=True):
        cmd = [self.path, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if check and proc.returncode != 0:
            pytest.fail(
                f"{' '.join(cmd)} exited {proc.returncode}\nstderr: {proc.stderr}"
                f"\nstdout: {proc.stdout}",
                pytrace=False,
            )
        if proc.returncode not in (0, 1):
            # 2 is a usage error and anything else a crash: never a refusal.
            pytest.fail(
                f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr}", pytrace=False
            )
        return proc

    def reserve_xml(self, domain_xml):
        path = self.write("domain.xml", domain_xml)
        return self.run("reserve", "--domain-xml", path, "--print-xml").stdout

    def _plan_args(self, domain_xml, device_xml, flags, config_xml):
        args = ["plan", "--domain-xml", self.write("domain.xml", domain_xml)]
        if config_xml is not None:
            args += ["--config-xml", self.write("config.xml", config_xml)]
        return args + [self.write("device.xml", device_xml), *flags]

    def plan(self, domain_xml, device_xml, *flags, config_xml=None):
        """Runs plan --json; returns (plan dict, None) or (None, refusal message)."""
        args = self._plan_args(domain_xml, device_xml, flags, config_xml)
        proc = self.run(*args, "--json", check=False)
        plan = json.loads(proc.stdout)
        if proc.returncode != 0:
            # --json prints the refused plan too (docs/json.md), and stderr still says why.
            assert proc.stderr.strip(), "a refused plan must say why on stderr"
            assert plan.get("ok") is False and plan.get("message"), plan
            assert plan["message"] in proc.stderr, (plan, proc.stderr)
            return None, proc.stderr.strip()
        assert plan.get("ok") is True, plan
        return plan, None

    def plan_output(self, domain_xml, device_xml, *flags, config_xml=None):
        """plan with --print-xml or --print-device-xml in @flags; the output must be XML."""
        out = self.run(*self._plan_args(domain_xml, device_xml, flags, config_xml)).stdout
        ET.fromstring(out)
        return out
