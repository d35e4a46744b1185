"""Every figure is readable: a title, labelled axes with units, a legend beside the data, and a
scale that shows the differences (small changes in %, several labelled ticks on log axes)."""

from __future__ import annotations

import pytest
from evalkit import tiny_evaluation

from octopus.experiments.figures import draw_figures
from octopus.experiments.plots import plot_throughput_vs_clusters

matplotlib = pytest.importorskip("matplotlib")


@pytest.fixture
def figures(monkeypatch):
    """Every figure saved while the test runs, by file name."""
    from matplotlib.figure import Figure

    saved: dict[str, Figure] = {}
    real = Figure.savefig

    def keep(fig, path, *args, **kwargs):
        saved[str(path).rsplit("/", 1)[-1]] = fig
        return real(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return saved


def test_every_evaluation_figure_is_labelled(tmp_path, figures):
    """Each report figure has a title, axis labels with their unit or meaning, and its legend
    outside the plotting area; goodput is drawn as a fraction of capacity on [0, ~1]; the
    ablation's scale is in % around 0."""
    ev = tiny_evaluation()
    assert len(repr(ev)) < 200 and "chip" in repr(ev)  # readable, not every result inline
    names = draw_figures(ev, tmp_path)
    assert set(figures) == set(names) == {"goodput.png", "latency_chip.png",
                                          "attainment_chip.png", "slo_scale.png",
                                          "ablation.png"}
    for name, fig in figures.items():
        panels = [ax for ax in fig.axes if ax.get_visible()]
        legends = [ax.get_legend() for ax in panels if ax.get_legend() is not None]
        assert legends, name
        for ax in panels:
            assert any(a.get_ylabel() for a in ax.get_shared_y_axes().get_siblings(ax)), name
            assert ax.get_xlabel() or ax.get_xticklabels(), name
            assert ax.get_title() or fig._suptitle is not None, name
            if ax.get_legend() is not None:
                assert ax.get_legend().get_bbox_to_anchor().x0 >= ax.get_window_extent().x1
    goodput = figures["goodput.png"].axes[0]
    assert goodput.get_ylim() == (0.0, 1.08) and "capacity" in goodput.get_ylabel()
    low, high = figures["ablation.png"].axes[0].get_ylim()
    assert low == -high and "%" in figures["ablation.png"].axes[0].get_ylabel()


def test_a_log_log_plot_over_one_decade_has_several_labelled_ticks(tmp_path, figures):
    """Throughput from 300 to 2,000 instances/s on a log axis shows at least three labels."""
    rows = [{"clusters": c, "scheduler": "octopus", "throughput_instances_per_s": t}
            for c, t in ((1, 300.0), (4, 1000.0), (16, 2000.0))]
    plot_throughput_vs_clusters(rows, tmp_path / "t.png")
    ax = figures["t.png"].axes[0]
    figures["t.png"].canvas.draw()
    low, high = ax.get_ylim()
    labels = [t.get_text() for t in ax.get_yticklabels()
              if t.get_text() and low <= t.get_position()[1] <= high]
    assert len(labels) >= 3, labels
