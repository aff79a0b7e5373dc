"""Random-search efficiency: exact expected best of k draws vs brute force and simulation."""

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from designspace.analysis import expected_best, min_of_k_probabilities, search_efficiency
from designspace.errors import DesignSpaceError


def test_expected_best_equals_enumeration_of_all_subsets():
    rng = np.random.default_rng(0)
    e = rng.random(9)
    for k in range(1, 10):
        direct = np.mean([min(c) for c in combinations(e, k)])
        assert expected_best(e, [k])[0] == pytest.approx(direct)
    p = min_of_k_probabilities(9, [1, 4, 9])
    np.testing.assert_allclose(p.sum(axis=0), 1.0)
    assert expected_best(e, [1])[0] == pytest.approx(e.mean())
    assert expected_best(e, [9])[0] == pytest.approx(e.min())


def test_large_pool_matches_simulation_and_is_monotone():
    rng = np.random.default_rng(1)
    e = rng.normal(0.3, 0.02, 1000)
    ks = [1, 3, 10, 30, 100]
    exact = expected_best(e, ks)
    sim = [np.mean([rng.choice(e, k, replace=False).min() for _ in range(3000)]) for k in ks]
    np.testing.assert_allclose(exact, sim, atol=1e-3)
    assert np.all(np.diff(exact) < 0)


def test_search_efficiency_table_and_bands():
    rng = np.random.default_rng(2)
    data = pd.DataFrame(
        {
            "space": ["A"] * 200 + ["B"] * 50,
            "val_top1_err": np.r_[rng.random(200), rng.random(50) * 0.5],
            "status": "ok",
        }
    )
    t = search_efficiency(data, n_boot=300, seed=0)
    assert list(t.columns) == [
        "group",
        "k",
        "expected_best",
        "ci_low",
        "ci_high",
        "q25",
        "q75",
        "n",
    ]
    assert t[t.group == "B"]["k"].max() == 50 and t[t.group == "A"]["k"].max() == 200
    assert ((t.ci_low <= t.expected_best) & (t.expected_best <= t.ci_high)).all()
    assert (t.q25 <= t.q75).all()
    with pytest.raises(DesignSpaceError, match="1..5"):
        min_of_k_probabilities(5, [6])
