"""The HMC transition of EightSchoolsBenchmark in PyTorch, for comparison: eight schools (non-centred), 8 chains
batched, L = 5 leapfrog steps of 0.35, identity mass, the gradient by autograd, float32 on the CPU.
Prints transitions per second (one transition = 8 chains, 40 chain gradients) over repeated timed runs.
Usage: python3 bench/python/eight_schools_torch.py [threads]"""
import math
import sys
import time

import torch

torch.manual_seed(0)
if len(sys.argv) > 1:
    torch.set_num_threads(int(sys.argv[1]))
y = torch.tensor([28., 8., -3., 7., -1., 1., 18., 12.])
sigma = torch.tensor([15., 10., 16., 11., 9., 11., 10., 18.])
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def log_density(z):  # z [N, 10] -> [N]
    theta_trans, mu, log_tau = z[:, :8], z[:, 8:9], z[:, 9:10]
    theta = theta_trans * torch.exp(log_tau) + mu
    lp = (-0.5 * theta_trans ** 2 - HALF_LOG_2PI).sum(1)
    lp = lp + (-0.5 * ((y - theta) / sigma) ** 2 - torch.log(sigma) - HALF_LOG_2PI).sum(1)
    lp = lp + (-0.5 * (mu / 5) ** 2 - math.log(5) - HALF_LOG_2PI).sum(1)
    lp = lp + (log_tau - torch.log1p((torch.exp(log_tau) / 5) ** 2)).sum(1)
    return lp


def value_and_grad(z):
    z = z.detach().requires_grad_(True)
    lp = log_density(z)
    (g,) = torch.autograd.grad(lp.sum(), z)
    return lp.detach(), g


def transition(z, lp, g, eps=0.35, steps=5):
    p0 = torch.randn_like(z)
    p = p0 + 0.5 * eps * g
    q = z + eps * p
    for _ in range(steps - 1):
        _, gq = value_and_grad(q)
        p = p + eps * gq
        q = q + eps * p
    lq, gq = value_and_grad(q)
    p = p + 0.5 * eps * gq
    dh = (0.5 * (p ** 2).sum(1) - lq) - (0.5 * (p0 ** 2).sum(1) - lp)
    accept = torch.rand(z.shape[0]) < torch.exp(-dh)
    a = accept[:, None]
    return torch.where(a, q, z), torch.where(accept, lq, lp), torch.where(a, gq, g)


z = torch.randn(8, 10)
lp, g = value_and_grad(z)
for _ in range(500):  # warm-up
    z, lp, g = transition(z, lp, g)
rates = []
for _ in range(5):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < 1.0:
        z, lp, g = transition(z, lp, g)
        n += 1
    rates.append(n / (time.perf_counter() - start))
mean = sum(rates) / len(rates)
sd = (sum((r - mean) ** 2 for r in rates) / (len(rates) - 1)) ** 0.5
print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: {mean:.1f} +- {sd:.1f} transitions/s "
      f"({40 * mean:.0f} chain gradients/s)")
