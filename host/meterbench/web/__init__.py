"""The lab server (`meterbench serve`): live benches, runs, sign-off and public lookup.

`access` is the only module that talks to the database; `service` holds the operations the
pages (`app`, templates) and the JSON API share; `workers` runs each bench's verification in
its own process so the server can stop and start without stopping a run.
"""
