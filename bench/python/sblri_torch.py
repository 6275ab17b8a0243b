"""HMC on posteriordb's sblri-blr (the 6-parameter regression: y ~ normal(X beta, sigma), 5 coefficients and
sigma > 0 as exp(log_sigma)) in PyTorch, for comparison with org.aiwae.bench.RegressionSampling: 8 chains batched,
a fixed step size and L leapfrog steps, a diagonal inverse mass of the reference posterior's variances, float32 on
the CPU, the gradient by autograd. Starts at the reference means, discards 200 transitions, then samples for a fixed
period and prints transitions/s, chain gradients/s, the smallest bulk ESS over the 6 coordinates (rank-normalised
split chains, Geyer's initial monotone sequence, as Stan and aiwae-sampler's Diagnostics) and ESS/s.
Usage (from the repository root): python3 bench/python/sblri_torch.py [seconds] [step] [leapfrog] [threads]"""
import json
import math
import sys
import time
from statistics import NormalDist

import numpy as np
import torch

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20
eps = float(sys.argv[2]) if len(sys.argv) > 2 else 0.25
steps = int(sys.argv[3]) if len(sys.argv) > 3 else 8
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
torch.manual_seed(0)
root = "sampler/src/test/resources/posteriordb/sblri-blr"
data = json.load(open(root + ".data.json"))
ref = json.load(open(root + ".reference.json"))["reference"]
X = torch.tensor(data["X"], dtype=torch.float32)  # [n, 5]
y = torch.tensor(data["y"], dtype=torch.float32)
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
names = [f"beta[{j}]" for j in range(1, 6)]
start = [ref[k]["mean"] for k in names] + [math.log(ref["sigma"]["mean"])]
inv_mass = torch.tensor([ref[k]["sd"] ** 2 for k in names] + [(ref["sigma"]["sd"] / ref["sigma"]["mean"]) ** 2])


def normal(x, mu, log_sigma):  # log N(x | mu, exp(log_sigma)) summed over the last axis
    return (-0.5 * ((x - mu) * torch.exp(-log_sigma)) ** 2 - log_sigma - HALF_LOG_2PI).sum(-1)


def log_density(z):  # z [N, 6] -> [N], as PosteriorDbTest.sblriBlr
    beta, log_sigma = z[:, :5], z[:, 5:6]
    fit = normal(y, beta @ X.T, log_sigma)
    prior = normal(beta, 0.0, torch.tensor(math.log(10.0))) + normal(torch.exp(log_sigma), 0.0, torch.tensor(math.log(10.0)))
    return fit + prior + log_sigma.sum(-1)


def value_and_grad(z):
    z = z.detach().requires_grad_(True)
    lp = log_density(z)
    (g,) = torch.autograd.grad(lp.sum(), z)
    return lp.detach(), g


def transition(z, lp, g):
    p0 = torch.randn_like(z) / torch.sqrt(inv_mass)
    p = p0 + 0.5 * eps * g
    q = z + eps * inv_mass * p
    for _ in range(steps - 1):
        _, gq = value_and_grad(q)
        p = p + eps * gq
        q = q + eps * inv_mass * p
    lq, gq = value_and_grad(q)
    p = p + 0.5 * eps * gq
    dh = (0.5 * (inv_mass * p ** 2).sum(1) - lq) - (0.5 * (inv_mass * p0 ** 2).sum(1) - lp)
    accept = torch.rand(z.shape[0]) < torch.exp(-dh)
    a = accept[:, None]
    return torch.where(a, q, z), torch.where(accept, lq, lp), torch.where(a, gq, g), accept


def split(d):  # [chains, draws] -> [2 chains, draws / 2]
    h = d.shape[1] // 2
    return np.concatenate([d[:, :h], d[:, d.shape[1] - h:]])


def rank_normalise(d):
    flat = d.ravel()
    order = np.argsort(flat, kind="stable")
    ranks = np.empty(len(flat))
    ranks[order] = np.arange(1, len(flat) + 1)
    inv = NormalDist().inv_cdf
    return np.array([inv((r - 0.375) / (len(flat) + 0.25)) for r in ranks]).reshape(d.shape)


def ess(chains):  # Stan's estimator: Geyer's initial monotone sequence over the chains' autocorrelations
    m, n = chains.shape
    centred = chains - chains.mean(1, keepdims=True)
    f = np.fft.rfft(centred, 2 * n)
    acov = np.fft.irfft(f * np.conj(f))[:, :n] / n
    chain_var = acov[:, 0] * n / (n - 1)
    mean_var = chain_var.mean()
    var_plus = mean_var * (n - 1) / n + (chains.mean(1).var(ddof=1) if m > 1 else 0)
    rho = 1 - (mean_var - acov.mean(0)) / var_plus
    rho[0] = 1
    t, pairs = 0, []
    while t + 1 < n:
        s = rho[t] + rho[t + 1]
        if s < 0:
            break
        pairs.append(min(s, pairs[-1]) if pairs else s)
        t += 2
    tau = -1 + 2 * sum(pairs)
    tau = max(tau, 1 / math.log10(m * n))
    return m * n / tau


z = torch.tensor(start).repeat(8, 1) + 0.1 * torch.randn(8, 6) * torch.sqrt(inv_mass)
lp, g = value_and_grad(z)
for _ in range(200):
    z, lp, g, _ = transition(z, lp, g)
draws, accepted = [], 0
t0 = time.perf_counter()
while time.perf_counter() - t0 < seconds:
    z, lp, g, acc = transition(z, lp, g)
    draws.append(z.numpy().copy())
    accepted += acc.float().mean().item()
elapsed = time.perf_counter() - t0
d = np.stack(draws, 1)  # [8, T, 6]
n = d.shape[1]
min_ess = min(ess(rank_normalise(split(d[:, :, j].astype(np.float64)))) for j in range(6))
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, step {eps}, L {steps}: {n} transitions in {elapsed:.1f} s, "
      f"{n / elapsed:.1f} transitions/s, {8 * steps * n / elapsed:.0f} chain gradients/s, acceptance {accepted / n:.3f}, "
      f"min bulk ESS {min_ess:.0f}, {min_ess / elapsed:.1f} ESS/s")
