import os

from bench import config
from bench.safemode import BootState


def _rm(path):
    try:
        os.remove(path)
    except OSError:
        pass


def test_defaults_when_missing():
    _rm("t_cfg.json")
    cfg = config.load("t_cfg.json")
    assert cfg["schema"] == config.SCHEMA and cfg["board"] is None


def test_atomic_save_and_unknown_keys_kept():
    cfg = config.load("t_cfg.json")
    cfg["board"] = "rp2-pico"
    cfg["site_note"] = "bench 3"
    config.save(cfg, "t_cfg.json")
    again = config.load("t_cfg.json")
    assert again["board"] == "rp2-pico" and again["site_note"] == "bench 3"
    assert not config.exists("t_cfg.json.tmp")
    _rm("t_cfg.json")


def test_unreadable_file_moved_aside():
    _rm("t_bad.json.bad")
    with open("t_bad.json", "w") as f:
        f.write("{not json")
    cfg = config.load("t_bad.json")
    assert cfg == config.DEFAULTS
    assert config.exists("t_bad.json.bad") and not config.exists("t_bad.json")
    _rm("t_bad.json.bad")


def _boot(**kw):
    return BootState("t_boot.json", "t_SAFE", max_bad_boots=3).begin(**kw)


def test_safe_mode_after_repeated_crashes():
    _rm("t_boot.json")
    _rm("t_SAFE")
    ids = []
    for _ in range(3):
        b = _boot()
        ids.append(b.boot_id)
        assert not b.safe  # crashed before becoming healthy
    assert ids == [1, 2, 3]
    b = _boot()
    assert b.safe and "crashed" in b.reason
    b.mark_healthy()
    assert not _boot().safe
    _rm("t_boot.json")


def test_safe_file_and_request():
    _rm("t_boot.json")
    with open("t_SAFE", "w") as f:
        f.write("")
    assert _boot().safe
    _rm("t_SAFE")
    b = _boot()
    assert not b.safe
    b.mark_healthy()
    b.request_safe_next()
    b2 = _boot()
    assert b2.safe and b2.reason == "requested"
    assert not _boot().safe  # only once
    _rm("t_boot.json")
