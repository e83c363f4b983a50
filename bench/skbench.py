"""Shared helpers of the benchmarks in bench/: a private dbus-daemon, slotkeeperd on it (only the
domains that opt in through their metadata are managed), a sd_notify socket, statistics.
Run the benchmarks with Debian's /usr/bin/python3 (it has gi and libvirt) as root."""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("SK_BUILD", os.path.join(ROOT, "build"))
SLOTKEEPERD = os.environ.get("SLOTKEEPERD", os.path.join(BUILD, "src", "daemon", "slotkeeperd"))
SLOTKEEPER = os.environ.get("SLOTKEEPER", os.path.join(BUILD, "src", "cli", "slotkeeper"))
METADATA_NS = "https://slotkeeper.org/xmlns/domain/1"

sys.path.insert(0, os.path.join(ROOT, "tests", "daemon"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def metadata(**attrs):
    attrs.setdefault("managed", "yes")
    text = " ".join(f"{k}='{v}'" for k, v in attrs.items())
    return f"<metadata><slotkeeper:policy xmlns:slotkeeper='{METADATA_NS}' {text}/></metadata>"


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


class Bus:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="skbench-bus-")
        self.proc = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1",
             f"--address=unix:dir={self.dir}"], stdout=subprocess.PIPE, text=True)
        self.address = self.proc.stdout.readline().strip()

    def close(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Daemon:
    """slotkeeperd on @bus for @uri with manage=false (opt-in domains only); @notify: listen on
    a NOTIFY_SOCKET and record when READY=1 arrives."""

    def __init__(self, bus, uri, extra_config="", notify=False, log=None, verbose=False):
        self.dir = tempfile.mkdtemp(prefix="skbench-d-")
        self.config = os.path.join(self.dir, "slotkeeper.conf")
        with open(self.config, "w") as f:
            f.write("[policy]\nmanage=false\n" + extra_config)
        self.log_path = log or os.path.join(self.dir, "slotkeeperd.log")
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        self.sock = None
        if notify:
            path = os.path.join(self.dir, "notify")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self.sock.bind(path)
            env["NOTIFY_SOCKET"] = path
        cmd = [SLOTKEEPERD, "--bus-address", bus.address, "--connect", uri,
               "--config", self.config] + (["--verbose"] if verbose else [])
        self.bus = bus
        with open(self.log_path, "w") as out:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout=120):
        """Seconds from the start until READY=1."""
        self.sock.settimeout(timeout)
        while True:
            data = self.sock.recv(4096).decode()
            if "READY=1" in data.split("\n"):
                return time.monotonic() - self.started

    def wait_name(self, timeout=60):
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.bus.address)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = subprocess.run(["dbus-send", "--session", "--print-reply",
                                   "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus.NameHasOwner",
                                   "string:org.slotkeeper.SlotKeeper1"],
                                  capture_output=True, text=True, env=env)
            if "boolean true" in proc.stdout:
                return
            time.sleep(0.1)
        raise RuntimeError("slotkeeperd did not own its name")

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return 0

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock:
            self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def gio_connection(address):
    import gi

    gi.require_version("Gio", "2.0")
    from gi.repository import Gio

    return Gio.DBusConnection.new_for_address_sync(
        address, Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
        | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION, None, None)
