/* The page's only connection to the host: slotkeeperd's D-Bus API (docs/dbus-api.md) on the
 * system bus, through cockpit.dbus. The domain list comes from the service's ObjectManager and
 * stays current through InterfacesAdded/Removed and PropertiesChanged (cockpit's proxies
 * follow them); nothing here polls and nothing talks to libvirt. */

/* global cockpit */

export const BUS_NAME = "org.slotkeeper.SlotKeeper1";
export const MANAGER_PATH = "/org/slotkeeper/SlotKeeper1";
export const MANAGER_IFACE = "org.slotkeeper.SlotKeeper1.Manager";
export const DOMAIN_IFACE = "org.slotkeeper.SlotKeeper1.Domain";
export const ERROR_PREFIX = "org.slotkeeper.SlotKeeper1.Error.";

/* cockpit.dbus hands container variants back as {t, v}: unwraps them, recursively. */
export function unwrap(value) {
    if (Array.isArray(value))
        return value.map(unwrap);
    if (value !== null && typeof value === "object") {
        const keys = Object.keys(value);
        if (keys.length === 2 && "t" in value && "v" in value && typeof value.t === "string")
            return unwrap(value.v);
        const out = {};
        for (const key of keys)
            out[key] = unwrap(value[key]);
        return out;
    }
    return value;
}

/* Options a{sv} from plain values: booleans as b, strings as s, numbers as u. */
export function variants(obj) {
    const out = {};
    for (const [key, value] of Object.entries(obj)) {
        if (value === undefined)
            continue;
        if (typeof value === "boolean")
            out[key] = cockpit.variant("b", value);
        else if (typeof value === "number")
            out[key] = cockpit.variant("u", value);
        else
            out[key] = cockpit.variant("s", String(value));
    }
    return out;
}

/* A failed call as the page shows it: the service's error name (short and full) and message. */
export class CallError extends Error {
    constructor(ex) {
        const name = ex && ex.name ? String(ex.name) : "";
        super(ex && ex.message ? String(ex.message) : String(ex));
        this.dbusName = name;
        this.shortName = name.startsWith(ERROR_PREFIX) ? name.slice(ERROR_PREFIX.length) : name;
        this.problem = ex && ex.problem ? ex.problem : null;
    }
}

export class SlotKeeper extends EventTarget {
    constructor() {
        super();
        this.owner = undefined; /* undefined: not known yet; null: no service */
        this.closed = null;
        this.connect();
    }

    /* A client of the service's name with its proxies. cockpit-bridge fills the proxies when
     * the watch starts; a service that appears (or is restarted) later is seen as a new owner
     * of the name, and then the page connects anew, so that the bridge asks the new instance
     * for its objects. */
    connect() {
        const old = this.client;
        if (old)
            old.close();
        /* superuser "try": with administrative access unlocked the calls go through the root
         * bridge (polkit then allows them); without it through the user's own bridge, where
         * reads work and changes are refused by polkit. */
        const client = cockpit.dbus(BUS_NAME, { bus: "system", superuser: "try" });
        this.client = client;
        this.closed = null;
        const current = () => this.client === client;

        client.addEventListener("owner", (event, owner) => {
            if (!current())
                return;
            const before = this.owner;
            this.owner = owner;
            if (owner && before !== undefined && owner !== before) {
                /* the service appeared or was restarted: its objects are new */
                this.connect();
                this.owner = owner;
                this.dispatchEvent(new CustomEvent("owner", { detail: { owner, restarted: true } }));
                return;
            }
            this.dispatchEvent(new CustomEvent("owner", { detail: { owner, restarted: false } }));
        });
        client.addEventListener("close", (event, options) => {
            if (!current())
                return;
            if (options && options.problem === "not-found") {
                /* no service when the page opened (and D-Bus activation did not start one):
                 * the bridge closes the channel; connect again when the name gets an owner */
                this.owner = null;
                this.watchName();
                this.dispatchEvent(new CustomEvent("owner", { detail: { owner: null, restarted: false } }));
                return;
            }
            this.closed = options || { problem: "disconnected" };
            this.dispatchEvent(new CustomEvent("close", { detail: this.closed }));
        });

        this.manager = client.proxy(MANAGER_IFACE, MANAGER_PATH);
        this.manager.addEventListener("changed", () => {
            if (current())
                this.dispatchEvent(new Event("manager"));
        });

        this.domains = client.proxies(DOMAIN_IFACE, MANAGER_PATH);
        for (const what of ["added", "changed", "removed"]) {
            this.domains.addEventListener(what, (event, proxy) => {
                if (current())
                    this.dispatchEvent(new CustomEvent("domain", { detail: { what, path: proxy.path } }));
            });
        }
        this.domains.wait(() => {
            if (current())
                this.dispatchEvent(new Event("domains-ready"));
        });

        client.subscribe({ path: MANAGER_PATH, interface: MANAGER_IFACE, member: "Event" },
                         (path, iface, member, args) => {
                             if (!current())
                                 return;
                             const [kind, details] = args;
                             this.dispatchEvent(new CustomEvent("service-event", {
                                 detail: { kind, details: unwrap(details), time: new Date() },
                             }));
                         });
    }

    /* Waits, without polling, for the service's name to get an owner: the bus's own
     * NameOwnerChanged signal. */
    watchName() {
        if (this.nameWatch)
            return;
        const bus = cockpit.dbus("org.freedesktop.DBus", { bus: "system" });
        this.nameWatch = bus.subscribe({
            path: "/org/freedesktop/DBus", interface: "org.freedesktop.DBus",
            member: "NameOwnerChanged", arg0: BUS_NAME,
        }, (path, iface, member, [name, oldOwner, newOwner]) => {
            if (name === BUS_NAME && newOwner && this.owner === null)
                this.connect();
        });
    }

    /* Every Domain object, by path: {path, Name, State, ...} (a snapshot). */
    domainList() {
        const out = [];
        if (this.owner === null)
            return out; /* what a stopped service had is gone */
        for (const [path, proxy] of Object.entries(this.domains)) {
            if (!proxy || !proxy.valid || proxy.Name === undefined)
                continue;
            out.push(snapshot(path, proxy));
        }
        out.sort((a, b) => a.Name.localeCompare(b.Name));
        return out;
    }

    domain(path) {
        if (this.owner === null)
            return null;
        const proxy = this.domains[path];
        return proxy && proxy.valid && proxy.Name !== undefined ? snapshot(path, proxy) : null;
    }

    call(path, iface, method, signature, args) {
        return new Promise((resolve, reject) => {
            this.client.call(path, iface, method, args, { type: signature })
                    .then(reply => resolve(unwrap(reply)))
                    .catch(ex => reject(new CallError(ex)));
        });
    }

    plan(path, xml, options) {
        return this.call(path, DOMAIN_IFACE, "Plan", "sa{sv}", [xml, variants(options)])
                .then(([plan]) => plan);
    }

    attach(path, xml, options) {
        return this.call(path, DOMAIN_IFACE, "AttachDevice", "sa{sv}", [xml, variants(options)])
                .then(([deviceXml, address]) => ({ deviceXml, address }));
    }

    detach(path, xml, options) {
        return this.call(path, DOMAIN_IFACE, "DetachDevice", "sa{sv}", [xml, variants(options)]);
    }

    slots(path, inactive) {
        return this.call(path, DOMAIN_IFACE, "GetSlots", "a{sv}", [variants({ inactive })])
                .then(([buses]) => buses);
    }

    setPolicy(path, policy) {
        return this.call(path, DOMAIN_IFACE, "SetPolicy", "a{sv}a{sv}", [variants(policy), {}]);
    }
}

const PROPERTIES = ["Name", "UUID", "Id", "State", "Arch", "Machine", "Persistent", "Active", "Managed",
    "SparePorts", "SparePortsWanted", "LegacyBridge", "FreeHotplugSlots", "FreeHotplugSlotsNextBoot",
    "LegacyChain", "RestartPending"];

/* A Domain proxy's properties as a plain object {path, Name, State, ...}, unwrapped, with what
 * services older than API 0.2 lack derived as the API documents it. */
export function snapshot(path, proxy) {
    const out = { path };
    for (const name of PROPERTIES)
        out[name] = unwrap(proxy[name]);
    /* Services older than API 0.2 have no Active: derive it as the API documents it. */
    if (out.Active === undefined)
        out.Active = out.State !== "shut-off";
    /* Before API 0.2, SparePorts was the policy's target. */
    if (out.SparePortsWanted === undefined)
        out.SparePortsWanted = out.SparePorts;
    out.FreeHotplugSlots = out.FreeHotplugSlots || {};
    out.FreeHotplugSlotsNextBoot = out.FreeHotplugSlotsNextBoot || {};
    return out;
}
