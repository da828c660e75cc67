# SPDX-License-Identifier: MIT
"""Fixtures of the atx harness.

Run as:  ATX_BUILD=build/release /usr/bin/python3 -m pytest -q tests/harness
A missing library or `atx` program fails the run loudly: a harness that
skips everything would look green while testing nothing.
"""
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import atx  # noqa: E402

try:
    from hypothesis import settings
    # Few examples and no deadline: the VM is noisy and the suite must stay fast.
    settings.register_profile("atx", max_examples=25, deadline=None)
    settings.load_profile("atx")
except ImportError:  # pragma: no cover - hypothesis is a declared dependency
    pass


def atx_program():
    """The atx program: $ATX_PROGRAM, else next to the library (so a
    sanitizer build of the program can be tested against a release
    library that Python can load without preloading the sanitizer)."""
    return os.environ.get("ATX_PROGRAM") or os.path.join(os.path.dirname(atx.lib_path()), "atx")


def pytest_sessionstart(session):
    try:
        atx.lib()
    except atx.LibraryMissing as e:
        pytest.exit("atx harness: %s" % e, returncode=1)
    if not os.access(atx_program(), os.X_OK):
        pytest.exit("atx harness: the atx program is missing at %s (run `make`)" % atx_program(),
                    returncode=1)


@pytest.fixture
def ctx():
    with atx.Context() as c:
        yield c


@pytest.fixture(scope="session")
def atx_bin():
    return atx_program()


@pytest.fixture
def rng(request):
    # Seeded per test so a failure reproduces.
    return random.Random(request.node.nodeid)
