"""Cumulative-threshold helpers: recency weights, prior curves and quantiles."""

from __future__ import annotations

import numpy as np

from core.estimation.ordinal import prior_cdf, quantile, recency_weights


def test_recency_weights_halve_over_the_half_life() -> None:
    weights = recency_weights(5, 0.4)
    assert weights[-1] == 1.0 and np.isclose(weights[2], 0.5)
    assert np.all(np.diff(weights) > 0)
    assert np.all(recency_weights(4, None) == 1.0)


def test_prior_cdf_and_its_quantiles() -> None:
    scale = np.array([1.0, 2.0, 3.0, 5.0])
    points = np.array([1.0, 1.0, 2.0, 3.0, 5.0, 5.0, 13.0])
    cdf = prior_cdf(points, scale, np.ones(len(points)))
    assert np.allclose(cdf, [2 / 7, 3 / 7, 4 / 7, 6 / 7])
    column = cdf[:, None]
    assert quantile(column, scale, 0.5)[0] == 3
    assert quantile(column, scale, 0.25)[0] == 1
    assert quantile(column, scale, 0.95)[0] == 5  # the top of the scale closes the curve


def test_quantile_repairs_a_non_monotone_curve() -> None:
    scale = np.array([1.0, 2.0, 3.0])
    assert quantile(np.array([[0.6], [0.4], [0.9]]), scale, 0.5)[0] == 1
