"""Controller configuration on flash: JSON, schema number, atomic save. MicroPython-safe.

Save writes ``<name>.tmp`` and renames it over the file; LittleFS (the default on rp2 and
esp32) replaces the target atomically, so a power cut leaves the old file or the new one. An
unreadable file is moved aside to ``<name>.bad`` and defaults are used, so a broken config can
never stop the controller from booting and answering HELLO. Unknown keys are kept.
"""

import json
import os

SCHEMA = 1
DEFAULTS = {
    "schema": SCHEMA,
    "board": None,  # key into bench.hal.boards.BOARDS; None: by sys.platform (see app)
    "positions": None,  # None: as many as the board's pin map has
    "link": "usb",  # "usb" (stdin/stdout of the REPL port) or "uart"
    "link_baudrate": 115200,
    "resend_ms": 500,
    "wdt_ms": 5000,  # 0 disables the hardware watchdog
    "maint_ms": 600000,  # maintenance (RESET_REPL) keeps the watchdog fed this long at most
    "failsafe_ms": 10000,  # outputs off after this long without a frame from the host; 0: never
    "healthy_after_ms": 30000,  # running this long marks a boot as good (safe-mode counter)
    "max_bad_boots": 3,
    "min_pulse_us": [],  # meter-input minimum pulse width per position; missing means 0
    "count_max_hz": None,  # esp32: enforced limit of the counted inputs (None: HAL default)
    "rs485_echo": False,  # receiver always on: drop our own bytes before the reply
}


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _migrate(data):
    """Bring an older schema up to SCHEMA (none older yet)."""
    data["schema"] = SCHEMA
    return data


def load(path="config.json"):
    """Config dict: defaults overlaid with the file's values."""
    cfg = dict(DEFAULTS)
    if not exists(path):
        return cfg
    try:
        with open(path) as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError("config is not an object")
        if data.get("schema", 0) < SCHEMA:
            data = _migrate(data)
    except (ValueError, OSError):
        try:
            os.rename(path, path + ".bad")
        except OSError:
            pass
        return cfg
    cfg.update(data)
    return cfg


def save(cfg, path="config.json"):
    """Atomic replace of the config file."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(cfg, f)
    os.rename(tmp, path)
