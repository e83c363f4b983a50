"""slotkeeperd as a process under test: started on a private bus (skbus) against the real
libvirtd, stopped with SIGTERM and required to exit 0, its log kept for the failure report."""

import os
import shlex
import signal
import subprocess
import time

import pytest

import skoptin
from sklibvirt import URI, wait_stable, wait_xml
from sknames import BUS_NAME
from skpci import SPARE_PORTS, free_ports
from skrequire import program

START_TIMEOUT = 30  # name owned after start (libvirt connect + first listing)
STOP_TIMEOUT = 10

# Every service started in this process, so a failing test can show their logs (skplugin).
LOGS = []


def daemon_path():
    """The built slotkeeperd (SLOTKEEPERD), or skip/fail."""
    return program("SLOTKEEPERD")


class Service:
    """slotkeeperd on a private bus: start(), stop() (asserting a clean exit), restart().

    @uri: the libvirt URI it connects to; @isolated: whether it manages only the domains that
    opt in (skoptin); @extra_config: more of its config file; @verbose: --verbose with every
    GLib debug message (what a failing test wants to read; a benchmark may not want to pay for
    it). Attributes a test may set before start(): extra_args, env, wrapper, the timeouts,
    log_file (one fixed log instead of one per run in @workdir)."""

    def __init__(self, bus, workdir, uri=URI, isolated=skoptin.ISOLATED, extra_config="",
                 verbose=True):
        self.path = daemon_path()
        self.bus = bus
        self.workdir = workdir
        self.uri = uri
        self.verbose = verbose
        self.proc = None
        self.started = None  # time.monotonic() when the process was started
        self.log_path = None
        self.log_file = None
        self.runs = 0
        self.extra_args = []  # more slotkeeperd options, e.g. ["--polkit"]
        self.env = {}  # more environment, e.g. {"NOTIFY_SOCKET": path}
        # A command the service runs under, e.g. SK_DAEMON_WRAPPER="valgrind --leak-check=full"
        # (slower: the timeouts grow with it).
        self.wrapper = shlex.split(os.environ.get("SK_DAEMON_WRAPPER", ""))
        self.start_timeout = START_TIMEOUT * (6 if self.wrapper else 1)
        self.stop_timeout = STOP_TIMEOUT * (6 if self.wrapper else 1)
        self.config = os.path.join(workdir, "slotkeeper.conf")
        with open(self.config, "w") as f:
            f.write(skoptin.config(isolated) + extra_config)

    def start(self, wait=True):
        """Starts the service; with @wait, returns once it owns its bus name."""
        assert self.proc is None, "the service is already running"
        self.runs += 1
        self.log_path = self.log_file or os.path.join(self.workdir,
                                                      f"slotkeeperd-{self.runs}.log")
        LOGS.append(self.log_path)
        log = open(self.log_path, "w")
        env = dict(os.environ)
        if self.verbose:
            env["G_MESSAGES_DEBUG"] = "all"
        env.pop("NOTIFY_SOCKET", None)
        env.update(self.env)
        cmd = self.wrapper + [self.path, "--bus-address", self.bus.address, "--connect",
                              self.uri, "--config", self.config]
        cmd += (["--verbose"] if self.verbose else []) + self.extra_args
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        if wait:
            self.wait_owner()

    def wait_owner(self):
        """Waits (start_timeout) until the service owns its bus name; fails if it exits."""
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                pytest.fail(f"slotkeeperd exited {rc} before owning {BUS_NAME}:\n"
                            f"{self.log()}", pytrace=False)
            if self.bus.has_owner():
                return
            time.sleep(0.1)
        pytest.fail(f"slotkeeperd did not own {BUS_NAME} within {self.start_timeout}s:\n"
                    f"{self.log()}", pytrace=False)

    def stop(self, check=True):
        """SIGTERM; the service must exit 0 within stop_timeout seconds."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(self.stop_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            if check:
                pytest.fail(f"slotkeeperd did not exit within {self.stop_timeout}s of SIGTERM:\n"
                            f"{self.log()}", pytrace=False)
            return
        if check:
            assert rc == 0, f"slotkeeperd exited {rc} on SIGTERM:\n{self.log()}"

    def restart(self):
        self.stop()
        self.start()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self, tail=20000):
        """The last @tail characters of the current run's log (None: all of it)."""
        if not self.log_path:
            return ""
        with open(self.log_path, errors="replace") as f:
            text = f.read()
        return text if tail is None else text[-tail:]


def settled(dom):
    """@dom once the service has given it its spares and left it alone."""
    wait_xml(dom, lambda x: len(free_ports(x)) >= SPARE_PORTS, "spares")
    wait_stable(dom)
    return dom
