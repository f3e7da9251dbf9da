"""Start-up: config, safe-mode decision, HAL, link server, watchdog. MicroPython-safe.

``main()`` is what main.py calls on a board; tests and the bench simulator call ``build()``
with their own HAL and streams and drive the pieces directly.
"""

import sys

from bench import buildinfo, config
from bench.clock import Uptime, sleep_ms
from bench.controller import Controller
from bench.hal import load as load_hal
from bench.results import ResultBuffer
from bench.safemode import BootState
from bench.server import LinkServer
from bench.watchdog import Supervisor
from meterproto.link import messages as m

# Board when config.json names none: by the port's sys.platform (the unix port gets the sim).
DEFAULT_BOARDS = {"rp2": "rp2-pico", "esp32": "esp32-devkit"}


def _mp_version():
    v = sys.implementation.version
    return "%d.%d.%d" % (v[0], v[1], v[2])


def build(hal, cfg, boot):
    """The link server for a HAL, config and boot state (nothing started yet)."""
    flags = m.FLAG_SAFE_MODE if boot.safe else 0
    if cfg["wdt_ms"] and not boot.safe:
        flags |= m.FLAG_WDT
    controller = Controller(hal, safe=boot.safe, min_pulse_us=cfg["min_pulse_us"])
    info = {
        "caps": hal.caps,
        "positions": hal.positions,
        "boot_id": boot.boot_id & 0xFFFFFFFF,
        "tick_hz": hal.tick_hz,
        "mpy": getattr(sys.implementation, "_mpy", 0) & 0xFFFFFFFF,
        "mp_version": _mp_version(),
        "fw_version": buildinfo.VERSION,
        "fw_hash": buildinfo.HASH[:16],
        "board": hal.board[:16],
    }
    results = ResultBuffer(resend_ms=cfg["resend_ms"], boot_id=info["boot_id"])
    return LinkServer(
        controller,
        results,
        info,
        flags,
        failsafe_ms=cfg["failsafe_ms"],
        ctrl_c_exits=boot.safe,
    )


async def serve(hal, cfg, boot, sleep_ms):
    """Run the link until EOF or a RESET request; returns the reset mode or None."""
    server = build(hal, cfg, boot)
    uptime = Uptime(hal.clock)
    supervisor = None
    if cfg["wdt_ms"] and not boot.safe:
        supervisor = Supervisor(hal.wdt(cfg["wdt_ms"]), cfg["wdt_ms"] // 2)
    reader, writer = await hal.link_streams()
    if boot.safe:
        server.log(m.LOG_WARNING, "safe mode: " + boot.reason)

    async def mark_healthy():
        await sleep_ms(cfg["healthy_after_ms"])
        boot.mark_healthy()

    import asyncio

    asyncio.create_task(mark_healthy())
    return await server.run(reader, writer, uptime, sleep_ms, supervisor)


def main(force_safe=False):
    """Board entry point (main.py). Returns only for RESET_REPL (maintenance), a Ctrl-C in
    safe mode, or end of input.

    Watchdog: in safe mode a timer keeps a watchdog left running by the last boot fed, with
    no limit; on a normal boot the app's supervisor feeds it instead (bench.hal.keepalive), and
    RESET_REPL hands the board to mpremote with the timer feeding for at most maint_ms."""
    import asyncio

    from bench.hal import keepalive
    from bench.stdio import kbd_intr

    cfg = config.load()
    if not cfg["board"]:
        cfg["board"] = DEFAULT_BOARDS.get(sys.platform, "sim")
    boot = BootState(max_bad_boots=cfg["max_bad_boots"]).begin(force_safe)
    if boot.safe:
        keepalive.enter(cfg["wdt_ms"], 0)
    else:
        keepalive.leave()
    hal_cls = load_hal(cfg["board"])
    hal = hal_cls(**_hal_args(cfg))
    kbd_intr(-1)
    try:
        mode = asyncio.run(serve(hal, cfg, boot, sleep_ms))
    finally:
        kbd_intr(3)
    if mode == m.RESET_REPL and not boot.safe:
        keepalive.enter(cfg["wdt_ms"], cfg["maint_ms"])
    if mode == m.RESET_SAFE:
        boot.request_safe_next()
    if mode in (m.RESET_SOFT, m.RESET_SAFE):
        hal.reset(False)
    elif mode == m.RESET_HARD:
        hal.reset(True)
    return mode


def _hal_args(cfg):
    args = {
        "board_name": cfg["board"],
        "link": cfg["link"],
        "link_baudrate": cfg["link_baudrate"],
        "rs485_echo": cfg["rs485_echo"],
    }
    if cfg["positions"]:
        args["positions"] = cfg["positions"]
    if cfg.get("count_max_hz"):
        args["count_max_hz"] = cfg["count_max_hz"]
    return args
