// The browser half of the Cockpit page test: Debian's chromium, headless, driven by
// playwright-core (which downloads no browser), answering one JSON request per line on stdin
// with one JSON reply per line on stdout. The Python test (test_page.py) sends the requests
// so that it can check libvirt between browser steps.
//
//   node driver.mjs            then e.g. {"cmd": "goto", "url": "http://127.0.0.1:9090/..."}
//
// Every reply carries the console errors, page errors and failed requests seen since the
// previous reply ("problems"), so the test fails on the first one.

import readline from "node:readline";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.SK_CHROMIUM || "/usr/bin/chromium";
// The machine has no network but loopback: flags that stop chromium from reaching out.
const ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--disable-domain-reliability",
    "--disable-client-side-phishing-detection", "--metrics-recording-only",
    "--no-default-browser-check", "--password-store=basic", "--use-mock-keychain",
];

let browser = null;
let context = null;
let page = null;
let problems = [];

function note(kind, text, url) {
    problems.push({ kind, text, url: url || "" });
}

async function launch(req) {
    if (browser)
        await browser.close();
    browser = await chromium.launch({
        executablePath: CHROMIUM, headless: true, args: ARGS,
        timeout: 60000,
    });
    context = await browser.newContext({
        viewport: { width: req.width || 1280, height: req.height || 800 },
        colorScheme: req.colorScheme || "light",
        deviceScaleFactor: req.scale || 1,
    });
    page = await context.newPage();
    page.on("console", msg => {
        if (msg.type() === "error")
            note("console", msg.text(), msg.location().url);
    });
    page.on("pageerror", err => note("pageerror", String(err.stack || err)));
    page.on("requestfailed", r => {
        const failure = r.failure() ? r.failure().errorText : "";
        /* a page that is left or reloaded aborts its open requests and web socket */
        if (failure !== "net::ERR_ABORTED")
            note("requestfailed", `${r.method()} ${failure}`, r.url());
    });
    page.on("response", r => {
        if (r.status() >= 400)
            note("http", `HTTP ${r.status()}`, r.url());
    });
    return {};
}

/* The frame a request addresses: the top page, or the first frame whose URL contains
 * req.frame (the page inside the Cockpit shell's iframe). */
async function target(req) {
    if (!req.frame)
        return page;
    const deadline = Date.now() + (req.timeout || 30000);
    for (;;) {
        const f = page.frames().find(fr => fr.url().includes(req.frame));
        if (f)
            return f;
        if (Date.now() > deadline)
            throw new Error(`no frame with ${req.frame} in its URL`);
        await new Promise(resolve => setTimeout(resolve, 100));
    }
}

/* The test sends functions as source text ("(arg) => ..."): made into functions here, in
 * node, so that playwright passes them to the page as functions called with req.arg (a
 * string would be evaluated as an expression, and the page's CSP forbids eval anyway). */
function fn(source) {
    // eslint-disable-next-line no-new-func
    return new Function(`return (${source});`)();
}

const commands = {
    launch,
    async goto(req) {
        await page.goto(req.url, { waitUntil: "load", timeout: req.timeout || 30000 });
        return { url: page.url() };
    },
    async viewport(req) {
        await page.setViewportSize({ width: req.width, height: req.height });
        return {};
    },
    async colorScheme(req) {
        await page.emulateMedia({ colorScheme: req.colorScheme });
        return {};
    },
    async waitFor(req) {
        const t = await target(req);
        await t.waitForSelector(req.selector, { state: req.state || "visible", timeout: req.timeout || 30000 });
        return {};
    },
    async waitForFunction(req) {
        const t = await target(req);
        const handle = await t.waitForFunction(fn(req.expression), req.arg,
                                               { timeout: req.timeout || 30000, polling: "raf" });
        return { value: await handle.jsonValue() };
    },
    async evaluate(req) {
        const t = await target(req);
        return { value: await t.evaluate(fn(req.expression), req.arg) };
    },
    async click(req) {
        const t = await target(req);
        await t.click(req.selector, { timeout: req.timeout || 30000 });
        return {};
    },
    async fill(req) {
        const t = await target(req);
        await t.fill(req.selector, req.value, { timeout: req.timeout || 30000 });
        return {};
    },
    async select(req) {
        const t = await target(req);
        await t.selectOption(req.selector, req.value, { timeout: req.timeout || 30000 });
        return {};
    },
    async check(req) {
        const t = await target(req);
        await t.setChecked(req.selector, req.checked !== false, { timeout: req.timeout || 30000 });
        return {};
    },
    async press(req) {
        await page.keyboard.press(req.key);
        return {};
    },
    async text(req) {
        const t = await target(req);
        return { value: await t.innerText(req.selector, { timeout: req.timeout || 30000 }) };
    },
    async screenshot(req) {
        const t = req.selector ? await target(req) : null;
        if (t)
            await (await t.$(req.selector)).screenshot({ path: req.path });
        else
            await page.screenshot({ path: req.path, fullPage: Boolean(req.fullPage) });
        return { path: req.path };
    },
    async close() {
        if (browser)
            await browser.close();
        browser = null;
        return {};
    },
};

const rl = readline.createInterface({ input: process.stdin, terminal: false });
let queue = Promise.resolve();
rl.on("line", line => {
    queue = queue.then(async () => {
        let req;
        let reply;
        try {
            req = JSON.parse(line);
            const handler = commands[req.cmd];
            if (!handler)
                throw new Error(`unknown command ${req.cmd}`);
            reply = { ok: true, ...(await handler(req)) };
        } catch (err) {
            reply = { ok: false, error: String(err && err.message ? err.message : err) };
        }
        reply.problems = problems;
        problems = [];
        process.stdout.write(JSON.stringify(reply) + "\n");
    });
});
rl.on("close", () => {
    queue.then(async () => {
        if (browser)
            await browser.close();
        process.exit(0);
    });
});
