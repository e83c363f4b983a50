"""The page's vendored PatternFly (src/cockpit/patternfly) is exactly what its generator makes
from the pinned package: `npm ci` of src/cockpit/tools' committed lock file (npm registry only),
then build-patternfly.mjs, in a copy of that folder; every file must come out byte-identical and
nothing may be missing or extra. So the committed CSS and fonts are a reproducible build output
of a reviewed script and a locked package, never hand edits, and the check runs from a clean
clone in CI."""

import filecmp
import os
import shutil
import subprocess

from skpaths import SOURCE_ROOT
from skrequire import have, unavailable

TOOLS = os.path.join(SOURCE_ROOT, "src", "cockpit", "tools")
VENDORED = os.path.join(SOURCE_ROOT, "src", "cockpit", "patternfly")


def files_under(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _dirs, names in os.walk(root) for f in names)


def test_vendored_patternfly_is_the_generator_output(tmp_path):
    if not have("node", "npm"):
        unavailable("node and npm are needed to regenerate the vendored PatternFly")
    tools = tmp_path / "tools"
    # The generator writes to ../patternfly beside its own folder: here, inside tmp_path.
    shutil.copytree(TOOLS, tools, ignore=shutil.ignore_patterns("node_modules"))
    res = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                         cwd=tools, capture_output=True, text=True, timeout=600)
    if res.returncode != 0:
        unavailable(f"npm ci of @patternfly/patternfly failed: {res.stderr.strip()[-2000:]}")
    res = subprocess.run(["npm", "run", "--silent", "vendor"], cwd=tools, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, f"build-patternfly.mjs failed:\n{res.stdout}{res.stderr}"
    generated = tmp_path / "patternfly"

    want, got = files_under(VENDORED), files_under(generated)
    assert got == want, (f"vendored files differ from the generator's: only committed "
                         f"{sorted(set(want) - set(got))}, only generated "
                         f"{sorted(set(got) - set(want))}")
    _match, mismatch, errors = filecmp.cmpfiles(VENDORED, generated, want, shallow=False)
    assert not mismatch and not errors, (
        f"src/cockpit/patternfly differs from what `npm ci && npm run vendor` in "
        f"src/cockpit/tools makes: {mismatch + errors}; regenerate it rather than editing")
