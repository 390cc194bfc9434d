#!/usr/bin/env python3
"""Reference numbers for Tests/EvaluationTests/CalibratedEnergyTests.swift (ledoitWolfMatchesScikitLearn).

Prints, for the 7 × 3 float32 matrix X below, scikit-learn's Ledoit–Wolf shrinkage and the calibrated
energy (x − μ)ᵀ Σ⁻¹ (x − μ) / 3 of the probe rows, with Σ = (1 − δ) S + δ (tr S / 3) I, S the biased
covariance — what CalibratedEnergy(residuals: X) must reproduce. Needs numpy and scikit-learn.
"""
import numpy as np
from sklearn.covariance import LedoitWolf, ledoit_wolf_shrinkage

X = np.array([[0.1257302165031433, -0.06923975050449371, 0.1657058298587799],
              [0.10490011423826218, -0.48321932554244995, 0.0013446417870000005],
              [1.3040000200271606, 1.599081039428711, -0.021704377606511116],
              [-1.2654215097427368, -1.255985140800476, -0.11225710064172745],
              [-2.32503080368042, -1.3813070058822632, -0.4175316095352173],
              [-0.7322673797607422, -0.9103926420211792, -0.20374184846878052],
              [0.4116305410861969, 1.248328685760498, 0.16994227468967438]], dtype=np.float32).astype(np.float64)
probes = np.array([[1, 0, 0], [0, 1, 0], [0.5, -0.5, 0.25]])

delta = ledoit_wolf_shrinkage(X)
fit = LedoitWolf().fit(X)
precision = np.linalg.inv(fit.covariance_)
d = probes - fit.location_
print("shrinkage", repr(delta))
print("energies", [repr(v) for v in np.einsum("nd,de,ne->n", d, precision, d) / X.shape[1]])
