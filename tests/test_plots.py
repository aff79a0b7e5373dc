"""Plot functions: seaborn-style signatures, the papers' legend, bands, PNG/SVG output."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from synthetic import Truth, make_results  # noqa: E402

from designspace.errors import DesignSpaceError  # noqa: E402
from designspace.reporting import plots  # noqa: E402


@pytest.fixture(scope="module")
def data():
    truth = Truth(widths_increase=-0.03, depths_increase=-0.02)
    return make_results(("AnyNetXA", "AnyNetXE"), n=40, truth=truth, seed=3, n_failed=2)


def test_edf_plot_legend_is_name_n_min_mean_in_percent(data):
    fig, ax = plots.new_figure()
    assert plots.edf_plot(data, hue="space", band="dkw", ax=ax) is ax
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    ok = data[data.status == "ok"]
    want = []
    for name in ("AnyNetXA", "AnyNetXE"):
        e = ok[ok.space == name].val_top1_err.to_numpy()
        want.append(f"{name} [40 | {100 * e.min():.1f} | {100 * e.mean():.1f}]")
    assert texts == want
    assert len(ax.lines) == 2 and len(ax.collections) == 2  # two EDFs, two DKW bands
    assert all(line.get_ydata().max() == 1.0 for line in ax.lines)
    fig2, ax2 = plots.new_figure()
    plots.edf_plot(data, band="bootstrap", percent=False, ax=ax2)
    assert "fraction" in ax2.get_xlabel() and ax2.lines[0].get_xdata().max() < 1


def test_normalized_edf_plot(data):
    fig, ax = plots.new_figure()
    plots.normalized_edf_plot(data, bins=4, ax=ax)
    assert "normalized" in ax.get_ylabel() and len(ax.lines) == 2


def test_error_vs_param_plot_shades_the_good_range(data):
    fig, ax = plots.new_figure()
    plots.error_vs_param_plot(data, "b", hue="space", n_boot=500, ax=ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(s.startswith("good range [") for s in labels)
    assert any(s.startswith("best ") for s in labels)
    # b spans 1..4 here (less than a factor 8): a linear axis, labelled in words
    assert ax.get_xscale() == "linear" and ax.get_xlabel() == "bottleneck ratio b"
    with pytest.raises(DesignSpaceError, match="no column"):
        plots.error_vs_param_plot(data, "nope", ax=ax)


def test_width_profiles_efit_search_flops(data):
    fig, ax = plots.new_figure()
    plots.width_profile_plot(data, top=3, ax=ax)
    assert len(ax.lines) == 9  # per model: widths, linear rule, quantized rule
    fig, ax = plots.new_figure()
    plots.efit_plot(data, hue="space", ax=ax)
    assert len(ax.collections) == 2 and "e_fit" in ax.get_xlabel()
    fig, ax = plots.new_figure()
    plots.search_efficiency_plot(data, n_boot=100, ax=ax)
    assert ax.get_xscale() == "log" and len(ax.collections) == 2
    fig, ax = plots.new_figure()
    plots.error_vs_flops_plot(data, ax=ax)
    assert ax.get_xscale() == "log" and "multiply-adds" in ax.get_xlabel()


def test_save_png_and_svg_and_default_axes(data, tmp_path):
    plt.figure()
    ax = plots.edf_plot(data)  # ax=None draws on the current pyplot Axes
    assert ax is plt.gca()
    png = plots.save(ax, tmp_path / "sub" / "edf.png")
    svg = plots.save(ax.figure, tmp_path / "edf.svg")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in svg.read_bytes()[:500]
    plt.close("all")
    with pytest.raises(DesignSpaceError, match=r"\.png, \.svg or \.pdf"):
        plots.save(ax, tmp_path / "edf.jpg")
    with pytest.raises(DesignSpaceError, match="band"):
        plots.edf_plot(data, band="wide")


def test_plots_fail_clearly_on_bad_input(data):
    fig, ax = plots.new_figure()
    with pytest.raises(DesignSpaceError, match="none of the"):
        plots.edf_plot(data.assign(status="failed"), ax=ax)
    with pytest.raises(DesignSpaceError, match="needs column"):
        plots.width_profile_plot(data.drop(columns=["widths"]), ax=ax)
    assert np.isfinite(data.val_top1_err).sum() == 80


def test_fidelity_plot_one_point_per_shared_model(data):
    short = data[data["status"] == "ok"].head(40)
    long = short.copy()
    long["val_top1_err"] = long["val_top1_err"] * 0.5  # a longer schedule: lower errors
    long = long.iloc[5:]  # five models only in the short run
    fig, ax = plt.subplots()
    plots.fidelity_plot(short, long, hue="space", ax=ax)
    points = np.concatenate([c.get_offsets() for c in ax.collections])
    assert len(points) == 35
    np.testing.assert_allclose(points[:, 1], points[:, 0] * 0.5)
    assert "short schedule" in ax.get_xlabel() and "long schedule" in ax.get_ylabel()
    plt.close(fig)
