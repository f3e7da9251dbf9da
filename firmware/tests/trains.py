"""Synthetic edge trains for the sim HAL: a meter with a known error against a reference.

Times are integer nanoseconds so CPython and MicroPython compute identical trains. Reference
pulses are delivered as counts over the interval before each meter edge, the way the bench
simulator does it.
"""


def ref_edges_upto(t_ns, period_ns, phase_ns):
    """Number of reference rising edges at times phase + k*period (k >= 0) that are <= t."""
    if t_ns < phase_ns:
        return 0
    return (t_ns - phase_ns) // period_ns + 1


def drive_meter(
    hal,
    position,
    meter_period_ns,
    ref_period_ns,
    edges,
    start_ns=0,
    phase_ns=0,
    ref_phase_ns=0,
    counter="ref",
    edge="meter",
    on_edge=None,
):
    """Inject ``edges`` meter edges (ref counts first, then the edge); returns the end time."""
    counted = ref_edges_upto(start_ns, ref_period_ns, ref_phase_ns)
    t = start_ns
    for j in range(1, edges + 1):
        t = start_ns + phase_ns + j * meter_period_ns
        total = ref_edges_upto(t, ref_period_ns, ref_phase_ns)
        hal.count(counter, total - counted, t // 1000)
        counted = total
        hal.edge(edge, position, t // 1000)
        if on_edge is not None:
            on_edge(j)
    return t
