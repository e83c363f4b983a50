// The fixtures are what the service says now: each committed answer equals what the built CLI
// prints for the same definition (the same wire code as GetSlots, GetTopology and Plan). Run by
// meson with SLOTKEEPER set to the build's CLI; skipped without it (node --test by hand).
// After a deliberate change of the wire schema: node tests/cockpit/unit/fixtures.mjs write CLI.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { FIXTURES, PLANS, produce, topology } from "./fixtures.mjs";

const slotkeeper = process.env.SLOTKEEPER;

describe("fixtures match the built CLI", { skip: slotkeeper ? false : "SLOTKEEPER is not set" }, () => {
    for (const name of [...Object.keys(FIXTURES), ...Object.keys(PLANS)]) {
        it(name, () => {
            assert.deepEqual(topology(name), produce(slotkeeper, name),
                             `${name}.json is stale: regenerate with node tests/cockpit/unit/fixtures.mjs write ${slotkeeper}`);
        });
    }
});
