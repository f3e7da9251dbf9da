"""``python -m meterbench`` and the ``meterbench`` console script: the command tree is
imported only when the command runs.

Render workers (`meterbench.reports.parallel`) re-run the main module of the process that
started them, as multiprocessing does to find what it defines. A main module that imported
every command (about 0.7 s) would cost each worker that much before it renders; a worker that
re-runs this one imports nothing (and skips a ``__main__`` module run with ``-m`` entirely).
"""

from __future__ import annotations


def main() -> None:
    from meterbench.cli import main as run_command

    run_command()


if __name__ == "__main__":
    main()
