// Just enough of a document for dom.js's element builders under node, so that the unit tests
// can draw the tree (tree.js) and look at what it drew: elements with attributes, children,
// text, listeners, and a few queries. Not a DOM: no layout, no events beyond what a test fires.

class Node {
    constructor() {
        this.childNodes = [];
        this.parentNode = null;
    }

    append(...nodes) {
        for (const node of nodes) {
            node.parentNode = this;
            this.childNodes.push(node);
        }
    }

    get textContent() {
        return this.childNodes.map(c => c.textContent).join("");
    }

    set textContent(text) {
        this.childNodes = [];
        this.append(new Text(String(text)));
    }
}

class Text extends Node {
    constructor(data) {
        super();
        this.data = data;
    }

    get textContent() {
        return this.data;
    }
}

class Element extends Node {
    constructor(namespace, tagName) {
        super();
        this.namespaceURI = namespace;
        this.tagName = tagName;
        this.attributes = new Map();
        this.listeners = {};
    }

    setAttribute(name, value) {
        this.attributes.set(name, String(value));
    }

    getAttribute(name) {
        return this.attributes.has(name) ? this.attributes.get(name) : null;
    }

    addEventListener(type, listener) {
        (this.listeners[type] ||= []).push(listener);
    }

    dispatch(type, event) {
        for (const listener of this.listeners[type] || [])
            listener({ type, preventDefault() {}, ...event });
    }

    get children() {
        return this.childNodes.filter(c => c instanceof Element);
    }

    // every descendant element for which @test(element) is true, in document order
    findAll(test) {
        const out = [];
        const walk = el => {
            for (const child of el.children) {
                if (test(child))
                    out.push(child);
                walk(child);
            }
        };
        walk(this);
        return out;
    }

    // the text of the element itself, without its <title> tooltip
    get ownText() {
        return this.childNodes.filter(c => c instanceof Text).map(c => c.data).join("");
    }
}

export function installDocument() {
    globalThis.Node = Node;
    globalThis.document = {
        createElement: tag => new Element("http://www.w3.org/1999/xhtml", tag),
        createElementNS: (ns, tag) => new Element(ns, tag),
        createTextNode: text => new Text(text),
    };
}

export function removeDocument() {
    delete globalThis.Node;
    delete globalThis.document;
}
