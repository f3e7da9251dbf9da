"""Schema version 3: the lab's signatures over run chain heads.

A signature is not a row of the chain it signs (it covers the chain up to its ``row_count``),
so ``run_signature`` has no ``seq``/``prev_hash``/``row_hash``; it is append-only like every
other table. See `meterbench.results.signing`.
"""

from __future__ import annotations

DESCRIPTION = "lab signatures over run chain heads"

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE run_signature (
    run_id TEXT NOT NULL,
    row_count INTEGER NOT NULL,
    final_hash TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (run_id, row_count, key_id),
    FOREIGN KEY (run_id) REFERENCES run (run_id)
)""",
)
