#!/bin/bash
# The main job, as root on Debian 12: prepares the host (packages, libvirtd), builds slotkeeper
# and shows it on a demo domain in the local libvirt (qemu:///system): defines a small q35 TCG
# domain "slotkeeper-demo" if it does not exist, plans with the offline CLI, then starts
# slotkeeperd on a private D-Bus bus, lets it top up the spare ports by itself, starts the
# guest and hotplugs NICs through `slotkeeper attach-device`. The domain is left defined and
# shut off; the service and its bus are stopped at the end.
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
cleanup() {
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

cat <<EOF

Done. '$name' stays defined (shut off); files and the service log are in ${demo#"$root/"}/.
Remove it with: virsh -c $uri undefine $name
EOF
