"""Every figure kind, drawn on the committed studies, is readable: no tick labels or legend
entries print over each other, axes say what they show with units, a group keeps its colour."""

from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from designspace.analysis.load import load_results  # noqa: E402
from designspace.reporting import plots, style  # noqa: E402
from designspace.reporting.context import prepare  # noqa: E402
from designspace.reporting.options import AnalysisOptions  # noqa: E402
from designspace.reporting.plot_kinds import PLOT_KINDS  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"
# the committed study with the most spaces on one axis: six (288 models)
STUDIES = ("fmnist-progression",)


def overlaps(fig) -> list[str]:
    """Every pair of tick labels (per axis) or legend entries whose drawn extents intersect."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    found = []
    for i, ax in enumerate(fig.axes):
        groups = {
            f"axes {i} {name} ticks": [
                t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()
            ]
            for name, axis in (("x", ax.xaxis), ("y", ax.yaxis))
        }
        legend = ax.get_legend()
        if legend is not None:
            groups[f"axes {i} legend"] = [t for t in legend.get_texts() if t.get_text()]
        for what, texts in groups.items():
            boxes = [t.get_window_extent(renderer).expanded(1.0, 1.0) for t in texts]
            for a in range(len(boxes)):
                for b in range(a + 1, len(boxes)):
                    if boxes[a].overlaps(boxes[b]):
                        found.append(f"{what}: {texts[a].get_text()!r} / {texts[b].get_text()!r}")
    return found


@pytest.fixture(scope="module", params=STUDIES)
def study(request):
    ctx = prepare(load_results([RESULTS / request.param]), AnalysisOptions(n_boot=200))
    return request.param, ctx.plot_data(), ctx.options


@pytest.mark.parametrize("kind", list(PLOT_KINDS))
def test_every_figure_kind_has_no_overlapping_labels(study, kind):
    name, data, options = study
    fig, ax = plots.new_figure()
    PLOT_KINDS[kind].draw(data, options, ax)
    assert overlaps(fig) == [], f"{kind} on {name}"
    for a in fig.axes:
        labels = [a.get_xlabel(), a.get_ylabel()]
        assert not any(lab in ("val_top1_err", "flops") for lab in labels), labels
    first = fig.axes[0]
    ylabel = first.get_ylabel() or fig.get_supylabel()
    assert "%" in ylabel or "width" in ylabel or "prob" in ylabel, ylabel


def test_the_overlap_check_sees_crowded_ticks():
    fig, ax = plots.new_figure()
    ax.set_xticks(np.arange(40), [f"label {i}" for i in range(40)])
    assert len(overlaps(fig)) > 10
    fig, ax = plots.new_figure()
    for i in range(3):
        ax.plot([0, 1], [i, i], label=f"line {i}")
    legend = ax.legend()
    for text in legend.get_texts():  # stack every entry on the same spot
        text.set_position((0, 0))
        text.set_transform(ax.transAxes)
    assert overlaps(fig)


def test_a_group_keeps_its_colour_in_every_figure():
    data = load_results([RESULTS / "fmnist-progression"])
    ok = data[data["status"] == "ok"]
    order = sorted(ok["space"].unique())
    want = {name: style.group_colors(order)[name] for name in order}
    fig, ax = plots.new_figure()
    plots.edf_plot(ok, hue_order=order, ax=ax)
    edf = {line.get_label().split(" [")[0]: to_hex(line.get_color()) for line in ax.lines}
    # the same data without two spaces: the others keep their colours
    some = ok[~ok["space"].isin(order[:2])]
    fig, ax = plots.new_figure()
    plots.error_vs_flops_plot(some, hue_order=order, facet=False, ax=ax)
    flops = {c.get_label(): to_hex(c.get_facecolor()[0]) for c in ax.collections}
    assert edf == {n: want[n].lower() for n in order}
    assert flops == {n: want[n].lower() for n in order[2:]}


def test_palette_is_distinct_and_labels_have_units():
    assert len(set(style.PALETTE)) == len(style.PALETTE) >= 6
    styles = style.group_styles([f"g{i}" for i in range(10)])
    assert len({(s.color, s.linestyle) for s in styles.values()}) == 10
    assert style.axis_label("val_top1_err") == "top-1 error (%)"
    assert style.axis_label("flops", prefix="M") == "flops (MF)"
    assert style.si_scale(np.array([3.6e6, 4.0e6])) == (1e6, "M")


def test_narrow_ranges_get_a_linear_axis_with_plain_ticks():
    fig, ax = plots.new_figure()
    x = np.linspace(3.6, 4.0, 20)
    ax.scatter(x, x)
    style.tidy_axis(ax, "x", x)
    assert ax.get_xscale() == "linear"
    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all("e" not in lab and "×" not in lab for lab in labels)
    fig, ax = plots.new_figure()
    wide = np.array([1.0, 10.0, 100.0, 1000.0])
    ax.plot(wide, wide)
    style.tidy_axis(ax, "x", wide)
    assert ax.get_xscale() == "log"


def test_pdf_figures_for_papers(tmp_path):
    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1])
    path = plots.save(fig, tmp_path / "f.pdf")
    assert path.read_bytes()[:5] == b"%PDF-"


def test_the_report_writes_pdf_figures_when_asked(tmp_path):
    from synthetic import make_results

    from designspace.reporting.report import analyze

    data = make_results(("AnyNetXA", "AnyNetXE"), n=16, seed=1).drop(columns=["widths"])
    rep = analyze(data, tmp_path / "a", AnalysisOptions(n_boot=200, formats=("pdf",)))
    pdfs = sorted((tmp_path / "a").glob("*.pdf"))
    assert pdfs and all(p.read_bytes()[:5] == b"%PDF-" for p in pdfs)
    assert not list((tmp_path / "a").glob("*.png")) and rep.figures["edf"][0].suffix == ".pdf"
    assert "](edf.pdf)" in (tmp_path / "a" / "report.md").read_text()


def test_learning_curves_in_the_report_only_with_several_epochs(tmp_path):
    from synthetic import make_results

    from designspace.reporting.report import analyze

    data = make_results(("AnyNetXA", "AnyNetXE"), n=16, seed=1).drop(columns=["widths"])
    rng = np.random.default_rng(0)
    final = data["val_top1_err"].to_numpy()
    data["epoch_val_top1_err"] = [
        [min(1.0, e + 0.2 + rng.uniform(0, 0.05)), min(1.0, e + 0.05), e] for e in final
    ]
    opts = AnalysisOptions(n_boot=200, formats=("png",))
    rep = analyze(data, tmp_path / "a", opts)
    assert "learning_curves" in rep.figures
    md = (tmp_path / "a" / "report.md").read_text()
    assert "## Learning curves" in md and "Look for:" in md
    fig, ax = plots.new_figure()
    plots.learning_curve_plot(data[data["status"] == "ok"], ax=ax)
    medians = {line.get_label(): line.get_ydata() for line in ax.lines}
    ok = data[data["status"] == "ok"]
    for name, group in ok.groupby("space"):
        label = f"{name} [{len(group)}]"
        want = np.median(np.stack(group["epoch_val_top1_err"].to_list()), axis=0) * 100
        np.testing.assert_allclose(medians[label], want)
    one = data.assign(epoch_val_top1_err=[[e] for e in final])
    rep = analyze(one, tmp_path / "b", opts)
    curves = next(r for r in rep.sections if r.name == "curves")
    assert "one epoch" in curves.skipped
