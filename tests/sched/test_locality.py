"""``locality`` places a firing on the idle TBU nearest its producers' outputs (bytes x hops),
ties to a TBU holding its configuration, then the lowest id."""

from schedkit import mesh, run

from octopus.workflow import WorkflowBuilder


def _three_sources():
    """Sources s0, s1, s2 (TBUs 0, 1, 2 of a 1x4 row); s0 ends first, s1 runs long, s2 ends
    second and feeds c 64,000 bytes (1000 cycles over a 64 B/cycle link)."""
    return (WorkflowBuilder("near")
            .task("s0", "ai", 2560)                        # 10 cycles
            .task("s1", "ai", 256_000)                     # 1000 cycles
            .task("s2", "ai", 5120, output_bytes=64_000)   # 20 cycles
            .task("c", "ai", 2560).flow("s2", "c").build())


def test_locality_runs_the_consumer_where_its_input_is():
    """At cycle 20 TBUs 0, 2 and 3 are idle: locality puts c on TBU 2 (its input is there, no
    transfer); greedy on TBU 0, two hops away, paying the transfer."""
    sim, rec = run(_three_sources(), mesh(4), "locality")
    c = rec.of("c")[0]
    assert (c.tbu, c.dispatch_cycle, c.start_cycle) == (2, 20, 20)
    _, rec = run(_three_sources(), mesh(4), "greedy")
    c = rec.of("c")[0]
    assert (c.tbu, c.dispatch_cycle) == (0, 20)
    assert c.start_cycle == 20 + 2 * 2 + 64_000 // 64  # two hops, then the bytes


def test_locality_weighs_producers_by_their_bytes():
    """A consumer of two producers sits nearer the one that sends more bytes."""
    wf = (WorkflowBuilder("join")
          .task("big", "ai", 2560, output_bytes=6400)     # TBU 0
          .task("pad", "ai", 256_000)                    # TBU 1, busy long
          .task("small", "ai", 2560, output_bytes=640)   # TBU 2
          .task("c", "ai", 2560).flow("big", "c").flow("small", "c").build())
    _, rec = run(wf, mesh(4), "locality")
    assert rec.of("c")[0].tbu == 0


def test_locality_ties_go_to_a_resident_tbu():
    """A source has no producer bytes: every idle TBU is as near, and the one holding its
    configuration wins over lower ids."""
    wf = WorkflowBuilder("one").task("w", "ai", 2560, config_bytes=3200).build()
    _, rec = run(wf, mesh(4), "locality", setup=lambda sim: sim.machine.install(3, "w", 3200))
    assert rec.of("w")[0].tbu == 3 and rec.loads == []


def test_locality_widens_on_the_range_nearest_the_producer():
    """``width`` 4 on a row of 8 TBUs: sources s0-s3 (10 cycles) run on TBUs 0-3, p (100
    cycles) on TBU 4 and feeds c 64,000 bytes. When c is ready both ranges are idle: locality
    runs it on TBUs 4-7 (its input on its first TBU), greedy on 0-3, four hops away."""
    b = WorkflowBuilder("wide")
    for i in range(4):
        b = b.task(f"s{i}", "general", 640)
    wf = (b.task("p", "general", 6400, output_bytes=64_000).task("c", "ai", 25_600)
          .flow("p", "c").build())
    _, rec = run(wf, mesh(8), {"name": "locality", "width": 4})
    assert rec.of("p")[0].tbu == 4 and rec.of("c")[0].group == (4, 5, 6, 7)
    _, rec = run(wf, mesh(8), {"name": "greedy", "width": 4})
    assert rec.of("c")[0].group == (0, 1, 2, 3)
