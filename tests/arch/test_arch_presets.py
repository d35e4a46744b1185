"""Shipped presets and dotted overrides."""

from __future__ import annotations

import pytest

from octopus.arch import list_presets, load_arch
from octopus.errors import InputError


def test_list_presets():
    """The three documented presets ship with the package."""
    assert list_presets() == ["chip", "chip-4", "wafer"]


@pytest.mark.parametrize(
    ("name", "clusters", "tbus"), [("chip", 1, 16), ("chip-4", 4, 64), ("wafer", 64, 1024)]
)
def test_preset_sizes(name, clusters, tbus):
    """Each preset loads, carries its own name, and has the documented size."""
    arch = load_arch(name)
    assert arch.name == name
    assert (arch.num_clusters, arch.num_tbus) == (clusters, tbus)


def test_presets_differ_only_in_cluster_mesh_and_memory_placement():
    """chip-4 and wafer change only the cluster mesh (and their names; the wafer's memory sits
    at its edge), so scaling is clean, and every preset keeps the machine balance of current
    accelerators, 250-300 operations per off-chip byte."""
    chip = load_arch("chip")
    base = chip.model_dump(exclude={"name", "description", "chip", "memory"})
    assert load_arch("chip-4").memory == chip.memory
    for name in ("chip", "chip-4", "wafer"):
        other = load_arch(name)
        assert other.model_dump(exclude={"name", "description", "chip", "memory"}) == base
        assert other.chip.d2d_bytes_per_cycle == chip.chip.d2d_bytes_per_cycle
        assert other.memory.latency_cycles == chip.memory.latency_cycles
        assert 250 <= other.machine_balance <= 300


def test_override_changes_one_field():
    """A dotted override sets exactly one nested field."""
    arch = load_arch("chip-4", {"cluster.tbus_x": 8})
    assert arch.cluster.tbus_x == 8
    assert arch.cluster.tbus_y == 4
    assert arch.num_tbus == 4 * 8 * 4


def test_override_strings_are_coerced():
    """Values from the command line (strings) are validated and coerced like YAML values."""
    arch = load_arch("chip", {"pea.rows": "8", "noc.model": "contention"})
    assert (arch.pea.rows, arch.noc.model) == (8, "contention")


def test_override_unknown_key_is_error():
    """A misspelt override key is an InputError naming the key and the valid fields."""
    with pytest.raises(InputError) as info:
        load_arch("chip", {"cluster.tbus_z": 2})
    assert info.value.where == "cluster.tbus_z"
    assert "tbus_x" in info.value.problem


def test_override_into_leaf_is_error():
    """A key that goes below a scalar field is rejected."""
    with pytest.raises(InputError, match="'clock_hz' has no sub-fields"):
        load_arch("chip", {"clock_hz.value": 1})


def test_override_invalid_value_says_it_came_from_override():
    """An override that fails validation is an error of the overrides, naming the field and the
    value (not of the preset file)."""
    with pytest.raises(InputError, match=r"^overrides: cluster\.tbus_x: .*\(got -1\)$"):
        load_arch("chip", {"cluster.tbus_x": -1})


def test_overrides_do_not_leak_between_loads():
    """Overriding one load leaves the next load of the preset unchanged."""
    load_arch("chip", {"pea.rows": 4})
    assert load_arch("chip").pea.rows == 16


def test_loader_docstring_example_runs():
    """The example in the loader's docstring runs and prints what it says."""
    import doctest

    import octopus.arch.loader as module

    result = doctest.testmod(module)
    assert (result.failed, result.attempted > 0) == (0, True)


@pytest.mark.parametrize("name", ["chip", "chip-4", "wafer"])
def test_preset_yaml_types_are_exact(name):
    """Preset values parse as the right YAML types (e.g. 1.0e9 would be a string in YAML 1.1)."""
    from octopus.arch import PRESET_DIR, ArchConfig
    from octopus.errors import load_yaml_mapping

    data = load_yaml_mapping(PRESET_DIR / f"{name}.yaml")
    assert ArchConfig.model_validate(data, strict=True) == load_arch(name)
