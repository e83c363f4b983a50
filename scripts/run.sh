#!/bin/bash
# The main job, as root on Debian 12: prepares the host (packages, libvirtd), builds slotkeeper
# and shows it on a demo domain in the local libvirt (qemu:///system): defines a small q35 TCG
# domain "slotkeeper-demo" if it does not exist, plans with the offline CLI, then starts
# slotkeeperd on a private D-Bus bus, lets it top up the spare ports by itself, starts the
# guest and hotplugs NICs through `slotkeeper attach-device`. Then it serves the web console
# on 127.0.0.1 with the page "Hotplug slots" installed from build/, on the same private bus (as
# the console's system bus) and so showing the running demo guest, checks with curl that
# cockpit-ws serves the page, and prints the address to open and the cockpit-desktop command.
# From a terminal it keeps serving until Enter or Ctrl-C; when stdin is not a terminal (CI,
# scripts) it stops right after the check. The domain is left defined and shut off; the web
# console, the service and its bus are stopped at the end, however run.sh ends.
#
#   scripts/run.sh
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
uri=qemu:///system
name=slotkeeper-demo
demo="$root/build/demo"
sk="$root/build/src/cli/slotkeeper"

step() {
    printf '\n==== %s\n' "$*"
}

# Prints a command, then runs it.
show() {
    printf '+ %s\n' "$*"
    "$@"
}

virsh_() {
    virsh -q -c "$uri" "$@"
}

if [ "$(id -u)" -ne 0 ]; then
    echo "run.sh: run as root (sudo $0): it installs packages and starts libvirtd" >&2
    exit 1
fi

step "host setup"
scripts/setup-host.sh

step "build"
if [ -f build/build.ninja ]; then
    meson setup --reconfigure build >/dev/null
else
    meson setup build >/dev/null
fi
meson compile -C build slotkeeper slotkeeperd
mkdir -p "$demo"

step "demo domain '$name' on $uri"
if virsh_ domstate "$name" >/dev/null 2>&1; then
    echo "$name is already defined; using it as it is"
else
    # q35 under TCG, defaults everywhere: libvirt adds root ports for the NIC, the USB
    # controller and the balloon, plus exactly one spare.
    cat >"$demo/initial.xml" <<EOF
<domain type='qemu'>
  <name>$name</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <interface type='user'><model type='virtio'/></interface>
    <console type='pty'/>
  </devices>
</domain>
EOF
    show virsh -q -c "$uri" define "$demo/initial.xml"
fi
virsh_ dumpxml --inactive "$name" >"$demo/domain.xml"
echo "persistent definition saved as ${demo#"$root/"}/domain.xml"

step "its PCI tree: slotkeeper slots"
show "$sk" slots --domain-xml "$demo/domain.xml"

step "top up spare hotplug ports: slotkeeper reserve"
show "$sk" reserve --domain-xml "$demo/domain.xml"
added=$("$sk" reserve --domain-xml "$demo/domain.xml" --json |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["controllers"]))')
if [ "$added" -eq 0 ]; then
    echo "nothing to define: the domain already has its spare ports"
else
    "$sk" reserve --domain-xml "$demo/domain.xml" --print-xml >"$demo/reserved.xml"
    show virsh -q -c "$uri" define "$demo/reserved.xml"
    virsh_ dumpxml --inactive "$name" >"$demo/domain.xml"
    echo "libvirt's persistent definition now (the new ports are the empty ones):"
    show "$sk" slots --domain-xml "$demo/domain.xml"
fi

step "plan an rtl8139 NIC (conventional PCI: needs a pcie-to-pci-bridge slot to be hotpluggable)"
cat >"$demo/nic-rtl8139.xml" <<'EOF'
<interface type='user'><model type='rtl8139'/></interface>
EOF
show "$sk" plan --domain-xml "$demo/domain.xml" "$demo/nic-rtl8139.xml" --config

step "plan a virtio NIC (PCI Express: takes a spare root port)"
cat >"$demo/nic-virtio.xml" <<'EOF'
<interface type='user'><model type='virtio'/></interface>
EOF
show "$sk" plan --domain-xml "$demo/domain.xml" "$demo/nic-virtio.xml" --config

step "the same virtio NIC with --hotplug-require no (an integrated device on pcie-root)"
show "$sk" plan --domain-xml "$demo/domain.xml" "$demo/nic-virtio.xml" --config \
    --hotplug-require no

step "start slotkeeperd on a private bus (the system bus and polkit come with packaging)"
bus_pid=""
daemon_pid=""
console_pid=""
cleanup() {
    # the web console first (it stops its cockpit-ws, whose bridge is on the bus), the bus last
    if [ -n "$console_pid" ]; then
        kill "$console_pid" 2>/dev/null || true
        wait "$console_pid" 2>/dev/null || true
    fi
    virsh_ destroy "$name" >/dev/null 2>&1 || true
    [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
    [ -z "$bus_pid" ] || kill "$bus_pid" 2>/dev/null || true
}
trap cleanup EXIT
{
    read -r bus_addr
    read -r bus_pid
} < <(dbus-daemon --session --fork --print-address=1 --print-pid=1)
export DBUS_SESSION_BUS_ADDRESS=$bus_addr
sk_online=("$sk" --user)
"$root/build/src/daemon/slotkeeperd" --bus-address "$bus_addr" --connect "$uri" \
    >"$demo/slotkeeperd.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 50); do
    "${sk_online[@]}" status >/dev/null 2>&1 && break
    sleep 0.2
done
show "${sk_online[@]}" status
sleep 2 # the start-up reconcile of every domain
show "${sk_online[@]}" list

step "start the guest and hotplug through the service"
show virsh -q -c "$uri" start "$name"
show "${sk_online[@]}" attach-device "$name" "$demo/nic-virtio.xml" --live --config
echo "live and persistent XML agree on the address:"
virsh_ dumpxml "$name" | grep -A3 "<model type='virtio'" | grep address | tail -1
virsh_ dumpxml --inactive "$name" | grep -A3 "<model type='virtio'" | grep address | tail -1
echo "+ ${sk_online[*]} attach-device $name nic-rtl8139.xml --live --config"
"${sk_online[@]}" attach-device "$name" "$demo/nic-rtl8139.xml" --live --config ||
    echo "(refused as expected: the running guest has no pcie-to-pci-bridge yet)"
show "${sk_online[@]}" list

step "the web console: page \"Hotplug slots\" from build/, on the same bus and guest"
# tests/cockpit/skcockpit.py (the browser test's helpers) installs the page of build/ into a
# temporary directory (meson install --tags cockpit) and runs cockpit-ws with its bridge as
# root on 127.0.0.1, with this private bus as their system bus: the page talks to the
# slotkeeperd above, which serves root, so the page can attach, detach and set policies.
/usr/bin/python3 tests/cockpit/skcockpit.py console build "$bus_addr" \
    >"$demo/console.txt" 2>"$demo/console.log" &
console_pid=$!
for _ in $(seq 600); do
    grep -qx ready "$demo/console.txt" && break
    if ! kill -0 "$console_pid" 2>/dev/null; then
        cat "$demo/console.log" >&2
        echo "run.sh: the web console did not start (log: ${demo#"$root/"}/console.log)" >&2
        exit 1
    fi
    sleep 0.2
done
grep -qx ready "$demo/console.txt" || {
    echo "run.sh: the web console did not start within 120 s" >&2
    exit 1
}
page=$(sed -n 's/^page: //p' "$demo/console.txt")
shell=$(sed -n 's/^shell: //p' "$demo/console.txt")
share=$(sed -n 's/^share: //p' "$demo/console.txt")
# The page and its manifest, through cockpit-ws and its bridge (which reads the installed
# package); HTTP 200 for both or run.sh fails.
for url in "$page" "${page%/index.html}/manifest.json"; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$url" || true)
    echo "+ curl $url: HTTP $code"
    [ "$code" = 200 ] || {
        echo "run.sh: cockpit-ws did not serve $url (log: ${demo#"$root/"}/console.log)" >&2
        exit 1
    }
done
port=${page#http://127.0.0.1:}
port=${port%%/*}
cat <<EOF

The web console serves the page "Hotplug slots" on this host's loopback, as root, no login:

  $page
  (the whole web console, with its menu: $shell)

From another machine, forward the port first, then open the same address there:
  ssh -L $port:127.0.0.1:$port root@THIS-HOST
As a desktop window instead (from a graphical session on this host, as root, while this runs):
  DBUS_SYSTEM_BUS_ADDRESS='$bus_addr' \\
  XDG_DATA_DIRS='$share:/usr/local/share:/usr/share' \\
  /usr/lib/cockpit/cockpit-desktop slotkeeper
EOF
if [ -t 0 ]; then
    echo
    echo "Serving until you press Enter (or Ctrl-C); then the web console, slotkeeperd" \
        "and the guest stop."
    read -r _ || true
else
    echo
    echo "stdin is not a terminal: stopping the web console now (run scripts/run.sh" \
        "from a terminal to keep it up)."
fi

cat <<EOF

Done. '$name' stays defined (shut off); files and the service log are in ${demo#"$root/"}/.
Remove it with: virsh -c $uri undefine $name
EOF
