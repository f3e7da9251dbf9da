"""The fake board itself: its relay must keep serving the board through every kind of reset,
or a flash test waits for a board that booted long ago (a test of the test tool, because the
firmware tests trust it)."""

import os
import threading
from pathlib import Path

from meterbench.firmware_tools.fakeboard import FakeBoard, wait_for

# First boot: arm a short watchdog and print without pause, never feeding it, so the relay has
# the old board's output in hand when the watchdog fires. Every later boot: arm it and feed it
# silently, as a firmware that talks only when asked does.
MAIN_PY = """\
import machine, os, time
try:
    os.stat('booted')
    first = False
except OSError:
    first = True
    open('booted', 'w').close()
wdt = machine.WDT(timeout=300)
if first:
    while True:
        print('chatter')
while True:
    wdt.feed()
    time.sleep_ms(20)
"""


def _drain(port: str) -> None:
    """The host side of the USB port, reading what the board prints until the port goes away
    (a pty nobody reads fills up, and the relay would wait to hand the board's output on)."""
    fd = os.open(port, os.O_RDONLY | os.O_NOCTTY)

    def read() -> None:
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass  # the reset closed this pty
        finally:
            os.close(fd)

    threading.Thread(target=read, daemon=True).start()


def test_a_board_reset_while_it_was_talking_boots_and_is_served_again(tmp_path: Path) -> None:
    """The reset replaces the board's pty, and the new one gets the old one's descriptor
    number: the relay must not read it on the strength of the old one's readiness (the silent
    new board never writes, so that read never returned and its watchdog line went unread)."""
    (tmp_path / "main.py").write_text(MAIN_PY)
    with FakeBoard(tmp_path) as fb:
        _drain(fb.port)
        wait_for(lambda: "watchdog reset" in fb.events, "the watchdog reset")
        wait_for(lambda: fb.wdt_timeout_ms == 300, f"the second boot's watchdog: {fb.events}")
        feeds = fb.wdt_feeds
        wait_for(lambda: fb.wdt_feeds > feeds + 3, "the second boot's feeds")
        assert fb.wdt_resets == 1, fb.events
