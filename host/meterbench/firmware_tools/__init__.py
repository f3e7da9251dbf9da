"""Build, flash and inspect the bench-controller firmware (``meterbench firmware ...``)."""
