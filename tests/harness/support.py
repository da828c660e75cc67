# SPDX-License-Identifier: MIT
"""Helpers shared by the harness tests."""
import atx


def rand(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def engine_pairs(names):
    """(name, engine) for every engine of a default context whose probe
    accepts the algorithm, so each algorithm is checked on the software
    engine and on every engine that would otherwise serve it (mb)."""
    out = []
    with atx.Context() as c:
        for name in names:
            _, kl = atx.alg_parse(name)
            key = bytes(range(1, 1 + (kl or 32)))
            kw = {} if atx.alg_parse(name)[0]["service"] == atx.SVC_HASH else {"key": key}
            _, prio = c.probe(name, **kw)
            out += [(name, e) for e, p in sorted(prio.items()) if p >= 0]
    return out
