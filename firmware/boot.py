# Runs on every reset, also the soft resets of mpremote's raw REPL (where main.py does not).
# Kept tiny and failure-proof: a blocking or crashing boot.py would lock mpremote out.
# 1. the active firmware slot (written last by ``meterbench firmware flash``) goes on the path;
# 2. a watchdog left running by maintenance or safe mode is kept fed (bench.hal.keepalive).
import sys

try:
    with open("active") as _f:
        sys.path.insert(0, _f.read().strip() + "/lib")
except OSError:
    pass
try:
    from bench.hal import keepalive

    keepalive.boot()
except Exception as _e:  # noqa: BLE001 - boot.py must never stop the board
    print("boot.py:", repr(_e))
