"""Where the source tree, its build, the test data and the test guest's cache are.

meson passes each of them in the environment (tests/meson.build); run by hand (the benchmarks,
a single test file) they default to this source tree and its build/ directory.
"""

import os

SOURCE_ROOT = os.environ.get(
    "SK_SOURCE_ROOT",
    os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")))
BUILD_ROOT = os.environ.get("SK_BUILD", os.path.join(SOURCE_ROOT, "build"))
TEST_DATA = os.environ.get("SK_TEST_DATA", os.path.join(SOURCE_ROOT, "tests", "data"))
# The booting test guest (tests/guest/build-guest.sh) is built once per build tree and shared by
# the integration tests, the daemon tests and the benchmarks.
GUEST_CACHE = os.environ.get("SK_GUEST_CACHE", os.path.join(BUILD_ROOT, "guest-cache"))
