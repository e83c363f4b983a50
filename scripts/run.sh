#!/bin/bash
# The main job, as root on Debian 12: prepares the host (packages, libvirtd), builds slotkeeper
# and runs the offline planner against a demo domain in the local libvirt (qemu:///system):
# defines a small q35 TCG domain "slotkeeper-demo" if it does not exist, shows its PCI slots,
# tops up its spare hotplug ports with `slotkeeper reserve` + `virsh define`, and plans two
# NICs (rtl8139 and virtio) with the reasons. The domain is left defined and shut off.
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
meson compile -C build slotkeeper
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

cat <<EOF

Done. '$name' stays defined (shut off); files are in ${demo#"$root/"}/.
Remove it with: virsh -c $uri undefine $name
EOF
