"""Minimal test runner shared by the MicroPython-compatible suites (protocols and firmware).

Runs unchanged on CPython and on MicroPython. Test modules hold plain ``test_*`` functions
(``async def`` ones are run with asyncio). Output: the implementation name first, then
``PASS name`` / ``FAIL name: error`` / ``SKIP name: why`` per test, then exactly one closing line
``N passed, N failed``. Exit status 1 when anything failed.
"""

import sys


class Skip(Exception):
    """Raise in a test that cannot run on this interpreter; it prints SKIP and is not counted."""


def raises(exc_type, func, *args, **kwargs):
    """Assert that func(*args, **kwargs) raises exc_type; return the exception."""
    try:
        func(*args, **kwargs)
    except exc_type as e:
        return e
    raise AssertionError("%s not raised" % exc_type.__name__)


class Lcg:
    """Deterministic pseudo-random numbers, identical on CPython and MicroPython."""

    def __init__(self, seed=12345):
        self.state = seed & 0x7FFFFFFF

    def next(self):
        self.state = (self.state * 1103515245 + 12345) & 0x7FFFFFFF
        return self.state >> 8

    def below(self, n):
        return self.next() % n

    def bytes(self, n):
        return bytes([self.next() & 0xFF for _ in range(n)])


def _run_one(func):
    result = func()
    if hasattr(result, "send"):  # a coroutine (CPython) or generator (MicroPython)
        import asyncio

        asyncio.run(result)


def run_module(module, counts):
    names = sorted(k for k in dir(module) if k.startswith("test_"))
    for name in names:
        func = getattr(module, name)
        label = module.__name__ + "." + name
        try:
            _run_one(func)
        except Skip as e:
            print("SKIP %s: %s" % (label, e.args[0] if e.args else ""))
            continue
        except Exception as e:  # noqa: BLE001 - a runner reports every failure
            print("FAIL %s: %r" % (label, e))
            _traceback(e)
            counts[1] += 1
            continue
        print("PASS %s" % label)
        counts[0] += 1


def _traceback(e):
    print_exception = getattr(sys, "print_exception", None)  # MicroPython only
    if print_exception is not None:
        print_exception(e)
        return
    import traceback

    traceback.print_exception(type(e), e, e.__traceback__)


def main(module_names):
    print("implementation: %s (%s)" % (sys.implementation.name, sys.version))
    counts = [0, 0]
    for name in module_names:
        try:
            module = __import__(name)
            for part in name.split(".")[1:]:
                module = getattr(module, part)
        except Exception as e:  # noqa: BLE001
            print("FAIL import %s: %r" % (name, e))
            counts[1] += 1
            continue
        run_module(module, counts)
    print("%d passed, %d failed" % (counts[0], counts[1]))
    sys.exit(1 if counts[1] else 0)
