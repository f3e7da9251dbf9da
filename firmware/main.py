"""Board entry: emergency buffer for IRQ tracebacks, then the app (bench.app.main).

The safe-mode check (SAFE file, repeated crashes) happens inside bench.app before the watchdog
starts, so a controller that crashes at start-up still leaves the REPL reachable.
"""

import micropython

if hasattr(micropython, "alloc_emergency_exception_buf"):  # absent on the unix port
    micropython.alloc_emergency_exception_buf(100)

import bench.app  # noqa: E402

bench.app.main()
