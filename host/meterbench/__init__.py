"""meterbench: the host application that runs verification benches."""

__version__ = "0.1.0"
