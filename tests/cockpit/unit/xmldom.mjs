// A DOMParser for the unit tests: node has none, and model.js reads the device element XML
// that GetSlots returns (occupants[].xml) with the browser's. Enough of the DOM for that:
// parseFromString(text) -> {documentElement}, elements with tagName, getAttribute() and
// getElementsByTagName() (descendants, in document order); a document that is not well-formed
// gets a <parsererror> root, as the browser's does. Elements, attributes and character
// references only: what libvirt's device XML uses.

const ENTITIES = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decode(text) {
    return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e) => {
        if (e.startsWith("#x"))
            return String.fromCodePoint(parseInt(e.slice(2), 16));
        if (e.startsWith("#"))
            return String.fromCodePoint(parseInt(e.slice(1), 10));
        return ENTITIES[e] ?? m;
    });
}

class Element {
    constructor(tagName, attrs) {
        this.tagName = tagName;
        this.attrs = attrs;
        this.children = [];
    }

    getAttribute(name) {
        return name in this.attrs ? this.attrs[name] : null;
    }

    getElementsByTagName(name) {
        const out = [];
        const walk = el => {
            for (const child of el.children) {
                if (child.tagName === name)
                    out.push(child);
                walk(child);
            }
        };
        walk(this);
        return out;
    }
}

function parse(text) {
    const stack = [new Element("#document", {})];
    const tag = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|<\?[^>]*\?>|<!--[\s\S]*?-->|([^<]+)|(<)/g;
    let m;
    while ((m = tag.exec(text)) !== null) {
        const [, closing, name, attrText, selfClosing, chars, stray] = m;
        if (stray !== undefined)
            return null;
        if (chars !== undefined) {
            if (chars.trim() && stack.length === 1)
                return null; /* text outside the root element */
            continue;
        }
        if (name === undefined)
            continue; /* declaration or comment */
        const top = stack[stack.length - 1];
        if (closing) {
            if (top.tagName !== name || stack.length === 1)
                return null;
            stack.pop();
            continue;
        }
        if (stack.length === 1 && top.children.length > 0)
            return null; /* a second root element */
        const attrs = {};
        for (const a of attrText.matchAll(/([\w.:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
            attrs[a[1]] = decode(a[2] ?? a[3]);
        const el = new Element(name, attrs);
        top.children.push(el);
        if (!selfClosing)
            stack.push(el);
    }
    const doc = stack[0];
    return stack.length === 1 && doc.children.length === 1 ? doc.children[0] : null;
}

export class DOMParser {
    parseFromString(text) {
        const root = parse(String(text));
        if (root)
            return { documentElement: root };
        const error = new Element("parsererror", {});
        return { documentElement: error };
    }
}

// Makes DOMParser global, as in the browser, for the tests that want device identities.
export function installDOMParser() {
    globalThis.DOMParser = DOMParser;
}
