"""A TBU's configurations: bounded by slots and bytes, least recently used out, pins kept."""

from octopus.sim.residency import Residency, shard_key


def test_admitting_evicts_the_least_recently_used_until_it_fits():
    tbu = Residency(slots=3, capacity=100)
    for key in "abc":
        assert tbu.admit(key, 30)
    tbu.touch("a")  # b is now the least recently used
    assert tbu.admit("d", 40)  # 90 + 40 > 100: b goes (slots too: 3 held)
    assert tbu.held() == ["c", "a", "d"] and tbu.used_bytes == 100


def test_pinned_configurations_are_never_evicted_and_a_misfit_evicts_nothing():
    tbu = Residency(slots=2, capacity=100)
    tbu.admit("a", 60)
    tbu.admit("b", 30)
    assert not tbu.admit("c", 50, pinned=["a"])  # 60 pinned + 50 > 100
    assert tbu.held() == ["a", "b"]
    assert tbu.admit("c", 40, pinned=["a"])  # b goes, a stays
    assert tbu.held() == ["a", "c"]
    assert not tbu.admit("huge", 101)


def test_shards_are_named_by_member_and_width():
    assert shard_key("llm", 1, 0) == "llm"
    assert shard_key("llm", 4, 2) == "llm[3/4]"


def test_a_shared_holders_index_follows_admissions_and_evictions():
    """Each residency adds its TBU to ``holders[key]`` on admission and removes it on eviction."""
    holders: dict[str, set[int]] = {}
    first, second = Residency(1, 100, tbu=0, holders=holders), Residency(1, 100, 1, holders)
    first.admit("a", 10)
    second.admit("a", 10)
    assert holders["a"] == {0, 1}
    second.admit("b", 10)  # one slot: a goes
    assert holders == {"a": {0}, "b": {1}}
    assert not first.admit("c", 10, pinned=["a"])  # refused: nothing changes
    assert holders == {"a": {0}, "b": {1}}
