"""Every figure is readable: a title, labelled axes with units, a legend beside the data, and a
scale that shows the differences (small changes in %, several labelled ticks on log axes)."""

from __future__ import annotations

import pytest

from octopus.experiments.evaluate import SCHEDULERS, TARGET, Evaluation, Size
from octopus.experiments.figures import draw_figures
from octopus.experiments.plots import plot_throughput_vs_clusters
from octopus.experiments.report import main_rows
from octopus.run import RunSpec, execute, resolve

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


def _tiny_evaluation() -> Evaluation:
    """One workflow on chip-4, 8 instances per run, every scheduler and two ablation variants;
    the dynamicity and scaling studies filled with made-up but consistent numbers."""
    size = Size(instances=8, seeds=(0,), per_cluster=2)
    ev = Evaluation("chip-4", size)
    runs = {s: execute(RunSpec(workflow=size.sweep_workflow, arch="chip-4", scheduler=s,
                               instances=8)) for s in SCHEDULERS}
    ev.main = {size.sweep_workflow: {s: [r] for s, r in runs.items()}}
    ev.ablation = {size.sweep_workflow: {"no_dual": [runs["greedy"]],
                                         "no_adaptive": [runs[TARGET]]}}
    ev.dynamicity = [{"cv": cv, "static": 2.0 - cv / 2, "greedy": 1.01, TARGET: 1.0}
                     for cv in (0.0, 1.0, 2.0)]
    ev.scaling = [{"clusters": c, "efficiency": 1 - c / 200, "bound_efficiency": 0.99}
                  for c in (1, 4, 16, 64)]
    topology = resolve(RunSpec(workflow=size.sweep_workflow, arch="chip-4")).topology
    ev.tbu_positions = [topology.position(u) for u in range(topology.num_tbus)]
    return ev


def test_every_evaluation_figure_is_labelled(tmp_path, figures):
    """Each report figure has a title, axis labels with their unit or meaning, and its legend
    outside the plotting area; the ablation's scale is in % around 0, not 0..1 around 1."""
    ev = _tiny_evaluation()
    assert len(repr(ev)) < 200 and "chip-4" in repr(ev)  # readable, not every result inline
    rows = main_rows(ev)
    wf = ev.size.sweep_workflow
    ablation = [{"workflow": wf, "variant": TARGET, "makespan_cycles": ev.makespan(wf, TARGET)}]
    ablation += [{"workflow": wf, "variant": v, "makespan_cycles": runs[0].makespan_cycles}
                 for v, runs in ev.ablation[wf].items()]
    draw_figures(ev, rows, ablation, tmp_path)
    assert set(figures) == {"main.png", "idle_breakdown.png", "ablation.png", "dynamicity.png",
                            "scaling.png", "heatmap.png"}
    for name, fig in figures.items():
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        for ax in panels:
            assert ax.get_ylabel() and (ax.get_xlabel() or ax.get_xticklabels()), name
            assert ax.get_title() or fig._suptitle is not None, name
            legend = ax.get_legend()
            if legend is not None:
                assert legend.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1, name
    low, high = figures["ablation.png"].axes[0].get_ylim()
    assert low == -high and "%" in figures["ablation.png"].axes[0].get_ylabel()
    colorbar = [ax for ax in figures["heatmap.png"].axes if ax.get_label() == "<colorbar>"]
    assert colorbar and "utilization" in colorbar[0].get_ylabel()


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
