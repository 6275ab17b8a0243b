"""Bayesian logistic regression: the data and a reference posterior from long random-walk Metropolis runs.

PosteriorDbTest.logisticRegression checks the library's warm-up and HMC against the reference this writes.

Model:  y_i ~ bernoulli_logit(alpha + x_i . beta), alpha ~ normal(0, 5), beta_j ~ student_t(3, 0, 2.5).
Data:   N = 100, 3 predictors x ~ normal(0, 1) (numpy seed 23), alpha = -0.5, beta = (1.0, -2.0, 0.5).
Method: 64 chains of random-walk Metropolis in double precision with Gaussian proposals of covariance
        2.38^2 / 4 times the posterior covariance estimated by a pilot run; 20,000 steps of burn-in, then
        200,000 steps each; means and sds over the 12.8 million draws, Monte Carlo standard errors of the
        means by batch means (64 chains x 20 batches) printed.
Run:    /usr/bin/python3 logistic.py   (writes logistic.data.json and logistic.reference.json beside itself)
"""
import json
import math
import os

import numpy as np

rng = np.random.default_rng(23)
N, P = 100, 3
X = rng.standard_normal((N, P))
eta_true = -0.5 + X @ np.array([1.0, -2.0, 0.5])
y = (rng.random(N) < 1 / (1 + np.exp(-eta_true))).astype(float)
X = np.round(X, 4)  # as written to the data file


def log_density(theta):  # theta [C, 4]: alpha, beta
    eta = theta[:, :1] + theta[:, 1:] @ X.T
    lik = (y * eta - np.logaddexp(0, eta)).sum(1)
    prior = -0.5 * (theta[:, 0] / 5) ** 2 - 2 * np.log1p((theta[:, 1:] / 2.5) ** 2 / 3).sum(1)
    return lik + prior


def rwm(theta, chol, steps, keep):
    lp = log_density(theta)
    out = np.empty((steps, *theta.shape)) if keep else None
    accepted = 0
    for t in range(steps):
        prop = theta + rng.standard_normal(theta.shape) @ chol.T
        lq = log_density(prop)
        acc = np.log(rng.random(len(theta))) < lq - lp
        theta = np.where(acc[:, None], prop, theta)
        lp = np.where(acc, lq, lp)
        accepted += acc.mean()
        if keep:
            out[t] = theta
    return theta, out, accepted / steps


C, D = 64, 4
theta = rng.uniform(-2, 2, (C, D))
theta, pilot, _ = rwm(theta, 0.1 * np.eye(D), 20_000, True)
cov = np.cov(pilot[10_000:].reshape(-1, D).T)
chol = np.linalg.cholesky(2.38 ** 2 / D * cov)
theta, _, _ = rwm(theta, chol, 20_000, False)
names = ["alpha", "beta[1]", "beta[2]", "beta[3]"]
sums, sq, batches = np.zeros(D), np.zeros(D), []
steps, per_batch = 200_000, 10_000
for b in range(steps // per_batch):
    theta, draws, rate = rwm(theta, chol, per_batch, True)
    sums += draws.sum((0, 1))
    sq += (draws ** 2).sum((0, 1))
    batches.append(draws.mean(0))  # [C, D] batch means per chain
n = steps * C
mean = sums / n
sd = np.sqrt(sq / n - mean ** 2)
bm = np.concatenate(batches)  # [20 C, D]
mcse = bm.std(0, ddof=1) / math.sqrt(len(bm))
for i, name in enumerate(names):
    print(f"{name:8s} mean {mean[i]: .5f} sd {sd[i]:.5f} mcse {mcse[i]:.5f}  acceptance {rate:.3f}")
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "logistic.data.json"), "w") as f:
    json.dump({"N": N, "P": P, "X": X.tolist(), "y": y.astype(int).tolist()}, f)
with open(os.path.join(here, "logistic.reference.json"), "w") as f:
    json.dump({"reference": {name: {"mean": round(float(mean[i]), 6), "sd": round(float(sd[i]), 6),
                                    "mcse": round(float(mcse[i]), 6)} for i, name in enumerate(names)},
               "method": "logistic.py: 64 chains x 200,000 random-walk Metropolis steps in double (numpy seed 23)"},
              f, indent=1)
