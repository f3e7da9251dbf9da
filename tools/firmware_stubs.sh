#!/usr/bin/env bash
# Install the MicroPython board stubs pyright checks the firmware against, into typings/
# (git-ignored): typings/rp2 and typings/esp32, one per board family, because both define
# `machine` differently. Idempotent: skips a family whose stubs are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="${PIP:-.venv/bin/pip}"
install() {  # family, requirement
    local dir="typings/$1"
    if [ -f "$dir/.installed" ] && [ "$(cat "$dir/.installed")" = "$2" ]; then
        return
    fi
    rm -rf "$dir"
    "$PIP" install --quiet --no-user --no-deps --target "$dir" "$2" "micropython-stdlib-stubs==1.29.0.post2"
    echo "$2" > "$dir/.installed"
}
install rp2 "micropython-rp2-rpi-pico-stubs==1.29.0.post1"
install esp32 "micropython-esp32-stubs==1.29.0.post1"
