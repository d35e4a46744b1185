"""Validation of architecture configs: bad input names the file, the field and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from octopus.arch import PRESET_DIR, load_arch
from octopus.errors import InputError


def _write_chip_variant(tmp_path: Path, edit) -> Path:
    """Copy the 'chip' preset to tmp_path after applying ``edit`` to its mapping."""
    data = yaml.safe_load((PRESET_DIR / "chip.yaml").read_text())
    edit(data)
    path = tmp_path / "custom.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_valid_file_loads(tmp_path):
    """A file copied from a preset loads like the preset."""
    path = _write_chip_variant(tmp_path, lambda d: None)
    assert load_arch(path) == load_arch("chip")


def test_unknown_field_names_file_and_path(tmp_path):
    """A misspelt field is an error naming the file and the dotted path."""
    path = _write_chip_variant(tmp_path, lambda d: d["pea"].update(rowz=16))
    with pytest.raises(InputError) as info:
        load_arch(path)
    assert info.value.source == str(path)
    assert info.value.where == "pea.rowz"
    assert "unknown field" in info.value.problem
    assert str(info.value).startswith(f"{path}: pea.rowz: unknown field")


def test_negative_size_is_rejected(tmp_path):
    """A negative SRAM size names the field and says it must be positive."""
    path = _write_chip_variant(tmp_path, lambda d: d["pea"].update(sram_bytes=-1))
    with pytest.raises(InputError) as info:
        load_arch(str(path))
    assert info.value.where == "pea.sram_bytes"
    assert "greater than 0" in info.value.problem


@pytest.mark.parametrize("value", [0, 1.5])
def test_efficiency_outside_unit_interval_is_rejected(tmp_path, value):
    """Efficiencies must lie in (0, 1]."""
    path = _write_chip_variant(tmp_path, lambda d: d["pea"].update(ai_efficiency=value))
    with pytest.raises(InputError) as info:
        load_arch(path)
    assert info.value.where == "pea.ai_efficiency"


def test_zero_config_slots_is_rejected(tmp_path):
    """A TBU must hold at least one configuration."""
    path = _write_chip_variant(tmp_path, lambda d: d["tbu"].update(config_slots=0))
    with pytest.raises(InputError, match=r"tbu\.config_slots: .*greater than or equal to 1"):
        load_arch(path)


def test_missing_section_is_rejected(tmp_path):
    """Leaving out a required section names it."""
    path = _write_chip_variant(tmp_path, lambda d: d.pop("host"))
    with pytest.raises(InputError) as info:
        load_arch(path)
    assert (info.value.where, info.value.problem) == ("host", "Field required")


def test_unknown_noc_model_is_rejected(tmp_path):
    """The NoC model is one of two literals."""
    path = _write_chip_variant(tmp_path, lambda d: d["noc"].update(model="magic"))
    with pytest.raises(InputError, match=r"noc\.model: Input should be 'analytic' or 'contention'"):
        load_arch(path)


def test_missing_file_is_input_error(tmp_path):
    """A path that does not exist is an InputError, not an OSError."""
    with pytest.raises(InputError, match="cannot read file"):
        load_arch(tmp_path / "nope.yaml")


def test_unknown_preset_lists_presets():
    """An unknown preset name lists the valid ones."""
    with pytest.raises(InputError, match="unknown architecture 'chp' .*chip, chip-4, wafer"):
        load_arch("chp")


def test_configs_are_frozen():
    """A loaded config cannot be mutated."""
    arch = load_arch("chip")
    with pytest.raises(ValueError):
        arch.pea.rows = 8
