#!/bin/sh
# Writes the three large hand-made inputs (many devices) next to this script.
set -eu
cd "$(dirname "$0")"

head_q35() {
    cat <<EOF
<domain type='qemu'>
  <name>skfx-$1</name>
  <uuid>$2</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='$3'>hvm</type>
  </os>
  <features>
    <acpi/>
  </features>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
EOF
}
nic() { # mac-suffix model [bus slot]
    echo "    <interface type='user'>"
    echo "      <mac address='52:54:00:5c:$1'/>"
    echo "      <model type='$2'/>"
    if [ $# -ge 4 ]; then
        printf "      <address type='pci' domain='0x0000' bus='0x%02x' slot='0x%02x' function='0x0'/>\n" "$3" "$4"
    fi
    echo "    </interface>"
}
tail_dom() {
    echo "  </devices>"
    echo "</domain>"
}

# q35-cap: 14 root ports (the x86_64 cap), each holding a virtio NIC.
{
    head_q35 q35-cap 5c3b0a10-0000-4000-8000-000000000007 q35
    echo "    <controller type='usb' model='none'/>"
    i=1
    while [ $i -le 14 ]; do
        echo "    <controller type='pci' index='$i' model='pcie-root-port'/>"
        i=$((i + 1))
    done
    i=1
    while [ $i -le 14 ]; do
        nic "$(printf '07:%02x' $i)" virtio
        i=$((i + 1))
    done
    echo "    <memballoon model='none'/>"
    tail_dom
} > q35-cap.xml

# q35-root-full: pcie-root slots 0x02..0x1e hold e1000e NICs (explicit addresses), two root
# ports at 00:01.x, one of them empty.
{
    head_q35 q35-root-full 5c3b0a10-0000-4000-8000-00000000000a q35
    echo "    <controller type='usb' model='none'/>"
    echo "    <controller type='pci' index='1' model='pcie-root-port'/>"
    echo "    <controller type='pci' index='2' model='pcie-root-port'/>"
    nic 0a:01 virtio
    s=2
    while [ $s -le 30 ]; do
        nic "$(printf '0a:%02x' $((s + 0x10)))" e1000e 0 $s
        s=$((s + 1))
    done
    echo "    <memballoon model='none'/>"
    tail_dom
} > q35-root-full.xml

# pc-full: pci-bridge at 00:02.0, e1000 NICs in every other pci-root slot (00:03..00:1f) and in
# every bridge slot (01:01..01:1f).
{
    head_q35 pc-full 5c3b0a10-0000-4000-8000-000000000035 pc
    echo "    <controller type='pci' index='0' model='pci-root'/>"
    echo "    <controller type='pci' index='1' model='pci-bridge'>"
    echo "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>"
    echo "    </controller>"
    s=3
    while [ $s -le 31 ]; do
        nic "$(printf '35:%02x' $s)" e1000 0 $s
        s=$((s + 1))
    done
    s=1
    while [ $s -le 31 ]; do
        nic "$(printf '36:%02x' $s)" e1000 1 $s
        s=$((s + 1))
    done
    echo "    <memballoon model='none'/>"
    tail_dom
} > pc-full.xml
