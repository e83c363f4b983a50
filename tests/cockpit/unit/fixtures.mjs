// The API data the unit tests feed the page's modules: what GetSlots / GetTopology and Plan
// return for domain definitions that the real libvirt made (tests/data, see its README), as the
// page gets them after dbus.js's unwrap(). They are produced by the offline CLI, whose
// `slotkeeper --json slots --domain-xml FILE` prints the very dictionary the service returns
// from GetTopology (src/wire, docs/json.md; its "buses" is GetSlots' answer), and whose
// `--json plan` prints Plan's.
//
// Regenerate them after a change of the wire schema (fixtures.test.mjs fails until then):
//
//     node tests/cockpit/unit/fixtures.mjs write build/src/cli/slotkeeper

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const DATA = process.env.SK_TEST_DATA || join(HERE, "..", "..", "data");

// name: {xml: a domain XML of tests/data, reserve: first top up the spare ports as the service
// does (slotkeeper reserve --print-xml, default policy: 4 spares)}
export const FIXTURES = {
    // one running q35 guest: a NIC attached --config only (bus 3 of the persistent definition)
    // and one --live only (bus 4 of the running one)
    "q35-live": { xml: "q35-live.xml", what: "the running definition" },
    "q35-live-inactive": { xml: "q35-live-inactive.xml", what: "its persistent definition" },
    // the persistent definition once slotkeeper topped up its spares: root port 7 at 00:01.6
    "q35-live-reserved": { xml: "q35-live-inactive.xml", reserve: true, what: "persistent, spares topped up" },
    // root ports 1 and 2 with hotplug='off' (a NIC on 1), 3 default, 4 hotplug='on'
    "q35-hotplug-off": { xml: "q35-hotplug-off.xml", what: "shut off, ports with hotplug off" },
    // root port 1 -> pcie-to-pci-bridge 2 with an rtl8139 at 02:01.0
    "q35-legacy-chain": { xml: "q35-legacy-chain.xml", what: "shut off, with the legacy chain" },
    // root port -> switch upstream port -> 4 downstream ports, one with hotplug='off'
    "q35-switch": { xml: "q35-switch.xml", what: "shut off, a PCIe switch" },
    // i440fx: everything on pci-root, which takes hotplug (ACPI)
    "pc-default": { xml: "pc-default.xml", what: "shut off, i440fx" },
};

// Plans for the running q35-live guest, live and config, as the attach form asks for them.
export const PLANS = {
    // a PCI Express NIC: the one root port free in both definitions
    "plan-virtio-both": { device: "devices/net-virtio.xml", args: ["--live", "--config"] },
    // a conventional-PCI NIC: refused, naming the chain the next boot needs
    "plan-rtl8139-both": { device: "devices/net-rtl8139.xml", args: ["--live", "--config"] },
};

export function fixturePath(name) {
    return join(HERE, "fixtures", `${name}.json`);
}

// The committed GetTopology dictionary of @name.
export function topology(name) {
    return JSON.parse(readFileSync(fixturePath(name), "utf8"));
}

// GetSlots of @name: its list of buses.
export function slots(name) {
    return topology(name).buses;
}

// The committed Plan answer of @name.
export function plan(name) {
    return topology(name);
}

// What the CLI @slotkeeper prints for @name (of FIXTURES or PLANS) now.
export function produce(slotkeeper, name) {
    if (PLANS[name]) {
        const spec = PLANS[name];
        const argv = ["--json", "plan", "--domain-xml", join(DATA, "q35-live.xml"),
            "--config-xml", join(DATA, "q35-live-inactive.xml"), join(DATA, spec.device), ...spec.args];
        try {
            return JSON.parse(execFileSync(slotkeeper, argv, { encoding: "utf8", stdio: "pipe" }));
        } catch (e) {
            if (e.status === 1 && e.stdout)
                return JSON.parse(e.stdout); /* a refused plan: exit 1, the plan on stdout */
            throw e;
        }
    }
    const spec = FIXTURES[name];
    let xml = join(DATA, spec.xml);
    const tmp = mkdtempSync(join(tmpdir(), "sk-unit-"));
    try {
        if (spec.reserve) {
            const reserved = execFileSync(slotkeeper, ["reserve", "--domain-xml", xml, "--print-xml"],
                                          { encoding: "utf8" });
            xml = join(tmp, "reserved.xml");
            writeFileSync(xml, reserved);
        }
        return JSON.parse(execFileSync(slotkeeper, ["--json", "slots", "--domain-xml", xml], { encoding: "utf8" }));
    } finally {
        rmSync(tmp, { recursive: true, force: true });
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const [cmd, slotkeeper] = process.argv.slice(2);
    if (cmd !== "write" || !slotkeeper) {
        console.error("usage: node fixtures.mjs write PATH/TO/slotkeeper");
        process.exit(2);
    }
    for (const name of [...Object.keys(FIXTURES), ...Object.keys(PLANS)]) {
        writeFileSync(fixturePath(name), JSON.stringify(produce(slotkeeper, name), null, 1) + "\n");
        console.log(`wrote ${fixturePath(name)}`);
    }
}
