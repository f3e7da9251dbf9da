"""The bench test suite's set-up: which bench (``--bench``), started or opened once per session.

``--bench PATH`` names a bench file. One with a [sim] section is started as a simulated bench
(its devices on ptys, its accelerated clock); one without is a real bench, opened through the
URLs in the file. ``--meters`` gives a real bench's meter list (addresses and types); a
simulated bench takes them from its [sim] section. Tests marked ``hw`` mean something only on
real hardware and are skipped, with the reason, on a simulated bench.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from hil_options import add_options  # noqa: E402
from hil_support import (  # noqa: E402
    BenchUnderTest,
    LoopThread,
    Record,
    read_record,
    run_scenario,
    start_bench,
)

from meterbench.config.bench import load_bench  # noqa: E402
from meterbench.config.errors import ConfigError  # noqa: E402
from meterbench.selftest import Devices  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hw: meaningful on real hardware only (skipped on a simulated bench)"
    )
    config.addinivalue_line("markers", "slow: takes tens of seconds (deselect with -m 'not slow')")


def _bench_path(config: pytest.Config) -> Path:
    return Path(config.getoption("--bench")).resolve()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    hw = [item for item in items if item.get_closest_marker("hw") is not None]
    if not hw:
        return
    path = _bench_path(config)
    try:
        simulated = load_bench(path).simulated
    except ConfigError as exc:
        raise pytest.UsageError(f"--bench: {exc}") from None
    if simulated:
        skip = pytest.mark.skip(reason=f"needs real hardware; {path.name} is a simulated bench")
        for item in hw:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def loop_thread() -> Iterator[LoopThread]:
    """One event loop for the session's bench: the simulator's devices live on it."""
    thread = LoopThread()
    yield thread
    thread.close()


@pytest.fixture(scope="session")
def bench(request: pytest.FixtureRequest, loop_thread: LoopThread) -> Iterator[BenchUnderTest]:
    """The bench under test, started (simulated) or described (real) once per session."""
    meters = request.config.getoption("--meters")
    under_test = loop_thread.run(
        start_bench(_bench_path(request.config), Path(meters) if meters else None, loop_thread)
    )
    yield under_test
    loop_thread.run(under_test.stop())


@pytest.fixture(scope="session")
def devices(bench: BenchUnderTest) -> Iterator[Devices]:
    """The bench's devices, opened once; the source is switched off at the end."""
    opened = bench.run(Devices.open(bench.config, bench.clock))
    yield opened
    bench.run(opened.close())


@pytest.fixture(scope="session")
def fault_free(tmp_path_factory: pytest.TempPathFactory) -> Record:
    """The fault plan on the fault-free bench (benches/hil-1p-4.toml): what every
    recoverable fault scenario must reproduce."""
    db = tmp_path_factory.mktemp("fault-free") / "results.db"
    result = run_scenario("hil-1p-4", db)
    assert result.returncode == 0, result.stderr
    return read_record(db)
