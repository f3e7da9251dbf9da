# Runs on every reset. Kept trivial: a blocking boot.py would lock out mpremote.
