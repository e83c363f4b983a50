"""Shared helpers of the benchmarks in bench/: slotkeeperd started for timing (on a private bus,
managing only the domains that opt in through their metadata, optionally with a sd_notify
socket), statistics and a description of the machine. Everything else - private buses, test
domains, PCI addresses, the booting test guest, the D-Bus names - comes from the tests' helper
library, tests/lib, which importing this module puts on sys.path.
Run the benchmarks with Debian's /usr/bin/python3 (it has gi and libvirt) as root."""

import os
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

import skpaths  # noqa: E402
import skservice  # noqa: E402

# A benchmark stopped with SIGTERM (timeout, kill) still runs its finally: blocks, which undefine
# its domains and stop its service.
signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

# The built binaries, where meson test would name them; run by hand, the build/ tree.
os.environ.setdefault("SLOTKEEPERD", os.path.join(skpaths.BUILD_ROOT, "src", "daemon",
                                                  "slotkeeperd"))
os.environ.setdefault("SLOTKEEPER", os.path.join(skpaths.BUILD_ROOT, "src", "cli", "slotkeeper"))
SLOTKEEPER = os.environ["SLOTKEEPER"]


def percentile(values, p):
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def stats(values):
    """(median, p95) of @values."""
    return statistics.median(values), percentile(values, 95)


def machine():
    """A one-line description of the machine, for the results."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    return (f"{os.cpu_count()} CPUs ({model}), {mem} MiB RAM, "
            f"load {os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


class Daemon(skservice.Service):
    """slotkeeperd on @bus for @uri, started at once (the caller times it from .started). It
    manages only opted-in domains whatever SK_DAEMON_MANAGE_ALL says: a benchmark on the real
    libvirtd must not touch the host's other domains. Without @verbose it logs what it does but
    no debug messages, which would slow it. @notify: listen on a NOTIFY_SOCKET (wait_ready).
    @log: its log file (default: in its own temporary directory)."""

    def __init__(self, bus, uri, extra_config="", notify=False, log=None, verbose=False):
        self.dir = tempfile.mkdtemp(prefix="skbench-d-")
        super().__init__(bus, self.dir, uri=uri, isolated=True, extra_config=extra_config,
                         verbose=False)
        self.extra_args = ["--verbose"] if verbose else []
        self.log_file = log
        self.stop_timeout = 30
        self.sock = None
        if notify:
            path = os.path.join(self.dir, "notify")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(path)
            self.env["NOTIFY_SOCKET"] = path
        self.start(wait=False)

    def wait_ready(self, timeout=120):
        """Seconds from the start until READY=1."""
        self.sock.settimeout(timeout)
        while True:
            data = self.sock.recv(4096).decode()
            if "READY=1" in data.split("\n"):
                return time.monotonic() - self.started

    def wait_name(self, timeout=60):
        """Waits until it owns its bus name."""
        self.start_timeout = timeout
        self.wait_owner()

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def log(self):
        """All of its log (the start-up benchmark counts every domain in it)."""
        return super().log(tail=None)

    def stop(self):
        super().stop(check=False)
        if self.sock:
            self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)
