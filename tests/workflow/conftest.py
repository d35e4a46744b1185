"""Small hand-built workflows shared by the workflow tests."""

from octopus.workflow import Constant, WorkflowBuilder


def chain(n: int = 3, work: float = 100.0):
    """a0 -> a1 -> ... (general Task Blocks of constant work)."""
    b = WorkflowBuilder("chain")
    ids = [f"a{i}" for i in range(n)]
    for i in ids:
        b.task(i, "general", Constant(value=work))
    return b.flow(*ids).build() if n > 1 else b.build()


import pytest  # noqa: E402


@pytest.fixture
def tiny_fanout():
    """src (10 ops) -> fan-out of Poisson(2.5) copies of an ai block of 1000 MACs."""
    from octopus.workflow import Poisson

    return (WorkflowBuilder("tf").task("src", "general", 10)
            .fanout("F", Poisson(mean=2.5), ["w"]).task("w", "ai", 1000)
            .flow("src", "F").build())
