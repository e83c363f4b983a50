"""Helpers of the Cockpit page test: the page as `meson install` puts it, a real cockpit-ws on
loopback whose bridge sees a private bus playing the system bus, and the browser driver
(driver.mjs: playwright-core driving Debian's chromium).

Everything about slotkeeperd, the bus, polkit, libvirt and the guest comes from the helper
library in tests/lib.

    /usr/bin/python3 tests/cockpit/skcockpit.py serve [BUILD_DIR]

starts the same environment by hand (private bus, polkitd, slotkeeperd with manage=false,
cockpit-ws as root) and prints the page's URL: for looking at the page without a browser test.

    /usr/bin/python3 tests/cockpit/skcockpit.py console BUILD_DIR BUS_ADDRESS

serves only the web console, for a bus and a slotkeeperd that someone else runs (scripts/run.sh:
its private bus): the page of BUILD_DIR as `meson install` puts it, cockpit-ws and its bridge
as root on 127.0.0.1 with BUS_ADDRESS as their system bus. It prints what to open, then the line
"ready", and runs until SIGTERM or Ctrl-C, when it stops cockpit-ws and removes its files.
"""

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
if __name__ == "__main__":  # by hand: the helper library as pytest.ini would give it
    sys.path.insert(0, os.path.join(HERE, "..", "lib"))

import skpolkit  # noqa: E402
from skbus import OPEN_SESSION_CONFIG, PrivateBus  # noqa: E402
from skpaths import BUILD_ROOT, SOURCE_ROOT  # noqa: E402,F401
from skproc import stop_process  # noqa: E402
from skrequire import required, unavailable  # noqa: E402,F401
from skservice import Service  # noqa: E402
from skuser import public_tempdir  # noqa: E402

COCKPIT_WS = "/usr/lib/cockpit/cockpit-ws"
BRIDGE = "/usr/bin/cockpit-bridge"
CHROMIUM = os.environ.get("SK_CHROMIUM", "/usr/bin/chromium")
PAGE = "slotkeeper"


def require_tools():
    for path, what in [(COCKPIT_WS, "cockpit-ws (apt-get install cockpit-ws)"),
                       (BRIDGE, "cockpit-bridge (apt-get install cockpit-bridge)"),
                       (CHROMIUM, "chromium (apt-get install chromium)")]:
        if not os.path.exists(path):
            unavailable(f"{what} is missing: {path}")
    if not shutil.which("node") or not shutil.which("npm"):
        unavailable("node and npm are needed for playwright-core")
    skpolkit.require()


# ---- the installed page ---------------------------------------------------------------------


def install_page(build_root, dest, page_only=False):
    """meson install of the build into @dest (with @page_only, only the page's files: install
    tag "cockpit", which needs nothing else built); returns the share directory that holds
    cockpit/slotkeeper (for XDG_DATA_DIRS)."""
    meson = os.environ.get("SK_MESON", "meson")
    argv = [meson, "install", "-C", build_root, "--no-rebuild", "--quiet", "--destdir", dest]
    if page_only:
        argv += ["--tags", "cockpit"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, f"meson install failed:\n{res.stdout}{res.stderr}"
    for root, dirs, _files in os.walk(dest):
        if os.path.basename(root) == "cockpit" and PAGE in dirs:
            return os.path.dirname(root)
    raise AssertionError(f"meson install put no cockpit/{PAGE} under {dest} (-Dcockpit?)")


def node_modules(build_root):
    """playwright-core from the npm registry, installed from the committed package-lock.json
    into BUILD/cockpit-npm (once); returns that directory."""
    target = os.path.join(build_root, "cockpit-npm")
    lock = os.path.join(HERE, "package-lock.json")
    stamp = os.path.join(target, "node_modules", ".sk-lock")
    with open(lock) as f:
        wanted = f.read()
    if os.path.exists(stamp):
        with open(stamp) as f:
            if f.read() == wanted:
                return target
    os.makedirs(target, exist_ok=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(HERE, name), target)
    res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                         cwd=target, capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD="1"))
    if res.returncode != 0:
        unavailable(f"npm ci of playwright-core failed: {res.stderr.strip()[-2000:]}")
    with open(stamp, "w") as f:
        f.write(wanted)
    return target


# ---- cockpit-ws -----------------------------------------------------------------------------


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CockpitWs:
    """cockpit-ws --local-session=cockpit-bridge on 127.0.0.1: no login, one bridge running
    as @user (root by default), seeing @bus (a bus of skbus, or its address) as its system bus
    and @share's cockpit packages."""

    def __init__(self, bus, share, workdir, user="root"):
        self.port = free_port()
        self.user = user
        pw = pwd.getpwnam(user)
        self.home = tempfile.mkdtemp(prefix=f"skck-home-{user}-", dir=workdir)
        os.chown(self.home, pw.pw_uid, pw.pw_gid)
        # A session bus of the test's own: without one the bridge starts a dbus-daemon of its
        # own that outlives it (one per bridge, never stopped).
        self.session = PrivateBus(OPEN_SESSION_CONFIG, prefix="skck-session-")
        os.chmod(self.session.dir, 0o711)
        env = {
            "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": self.home,
            "USER": user,
            "LOGNAME": user,
            "LANG": "C.UTF-8",
            "DBUS_SYSTEM_BUS_ADDRESS": getattr(bus, "address", bus),
            "DBUS_SESSION_BUS_ADDRESS": self.session.address,
            # The page from the install tree first, cockpit's own packages (base1, shell) after.
            "XDG_DATA_DIRS": f"{share}:/usr/local/share:/usr/share",
            "XDG_RUNTIME_DIR": self.home,
        }
        argv = [COCKPIT_WS, "--no-tls", "-p", str(self.port), "-a", "127.0.0.1",
                f"--local-session={BRIDGE}"]
        if pw.pw_uid != 0:
            argv = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups"] + argv
        self.log_path = os.path.join(workdir, f"cockpit-ws-{user}.log")
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                         cwd=self.home)
        try:
            self.wait_for_page()
        except BaseException:
            self.stop()  # also when interrupted: never leave a cockpit-ws behind
            raise

    def wait_for_page(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/cockpit/@localhost/{PAGE}/manifest.json",
                                            timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"cockpit-ws did not serve the page:\n{self.log()}")
            time.sleep(0.2)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path=f"/cockpit/@localhost/{PAGE}/index.html"):
        return self.base + path

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-8000:]
        except OSError:
            return ""

    def stop(self):
        stop_process(self.proc)
        self.session.close()


# ---- the browser ------------------------------------------------------------------------------


class BrowserError(AssertionError):
    pass


class Browser:
    """driver.mjs over a pipe. Each call returns the reply's fields; problems (console errors,
    page errors, failed requests) are collected in .problems, and fail the call unless
    @tolerate says so."""

    def __init__(self, npm_dir, workdir):
        self.problems = []
        self.log_path = os.path.join(workdir, "driver.log")
        self.log = open(self.log_path, "w")
        # An ES module finds playwright-core in the node_modules beside it (NODE_PATH does
        # not apply to import): the driver runs from a copy in the npm directory.
        driver = os.path.join(npm_dir, "driver.mjs")
        shutil.copy(os.path.join(HERE, "driver.mjs"), driver)
        self.proc = subprocess.Popen(
            ["node", driver], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            text=True, bufsize=1, env=dict(os.environ, SK_CHROMIUM=CHROMIUM), cwd=npm_dir)
        self.call("launch")

    def call(self, cmd, tolerate=None, **kw):
        req = dict(kw, cmd=cmd)
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.log.flush()
            with open(self.log_path, errors="replace") as f:
                raise BrowserError(f"the browser driver died during {cmd}: {f.read()[-4000:]}")
        reply = json.loads(line)
        problems = [p for p in reply.pop("problems", [])
                    if not (tolerate and tolerate(p))]
        self.problems += problems
        if problems:
            raise BrowserError(f"the page reported problems during {cmd}: "
                               + json.dumps(problems, indent=1))
        if not reply.pop("ok"):
            raise BrowserError(f"{cmd} {json.dumps(kw)[:500]}: {reply.get('error')}")
        return reply

    def close(self):
        try:
            self.call("close")
        except (BrowserError, BrokenPipeError, OSError):
            pass
        try:
            self.proc.stdin.close()
            self.proc.wait(30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        self.log.close()


def polkit_service(bus, workdir):
    """slotkeeperd of the build on @bus, asking polkit as on the system bus, managing only the
    domains that opt in through their metadata (skoptin); started."""
    service = Service(bus, workdir)
    service.extra_args = ["--polkit"]
    service.start()
    return service


# ---- by hand ------------------------------------------------------------------------------


def stop_on_sigterm():
    """SIGTERM ends a by-hand server as Ctrl-C does: through its cleanup."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupt)


def run_until_stopped():
    """Sleeps until Ctrl-C or SIGTERM."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def serve(build_root):
    """The test's environment, by hand: prints the URL and runs until interrupted."""
    stop_on_sigterm()
    os.environ.setdefault("SLOTKEEPERD", os.path.join(build_root, "src", "daemon", "slotkeeperd"))
    workdir = public_tempdir("skck-serve-")
    share = install_page(build_root, os.path.join(workdir, "dest"))
    placed = skpolkit.place_action()
    bus = skpolkit.system_bus()
    polkit = skpolkit.Polkitd(bus, workdir)
    service = polkit_service(bus, workdir)
    ws = CockpitWs(bus, share, workdir)
    print(f"page:    {ws.url()}\nshell:   {ws.url('/')}\nbus:     {bus.address}\n"
          f"service: slotkeeperd --polkit, config {service.config} (manage=false: only "
          f"domains that opt in through their <metadata> are managed)\nCtrl-C stops it.",
          flush=True)
    try:
        run_until_stopped()
    finally:
        ws.stop()
        service.stop(check=False)
        polkit.stop()
        bus.close()
        if placed:
            os.unlink(placed)
        shutil.rmtree(workdir, ignore_errors=True)


def console(build_root, bus_address):
    """The web console alone, for a bus and a slotkeeperd that the caller runs: the page of
    @build_root installed into a temporary directory, cockpit-ws and its bridge as root with
    @bus_address as their system bus. Prints "page: URL", "shell: URL" and "share: DIR" (what
    XDG_DATA_DIRS needs for cockpit-desktop), then "ready"; runs until Ctrl-C or SIGTERM, then
    stops cockpit-ws (and so its bridge) and removes the directory."""
    stop_on_sigterm()
    workdir = tempfile.mkdtemp(prefix="skck-console-")
    ws = None
    try:
        share = install_page(build_root, os.path.join(workdir, "dest"), page_only=True)
        ws = CockpitWs(bus_address, share, workdir)
        print(f"page: {ws.url()}\nshell: {ws.url('/')}\nshare: {share}\nready", flush=True)
        run_until_stopped()
    except KeyboardInterrupt:
        pass  # stopped while starting
    finally:
        if ws is not None:
            ws.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else BUILD_ROOT))
    elif len(sys.argv) == 4 and sys.argv[1] == "console":
        console(os.path.abspath(sys.argv[2]), sys.argv[3])
    else:
        print(__doc__)
        sys.exit(2)
