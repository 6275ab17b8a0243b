"""The PyTorch comparison for aiwae's benchmarks: the paper's model (784-200-200-50 encoder with a diagonal Gaussian
q(z|x), 50-200-200-784 Bernoulli decoder, tanh) and the same work as `bin/aiwae bench` and the JMH benchmarks, in
PyTorch eager mode, timed: one IWAE training step (K=5 and K=50, batch 20), one AIWAE training step (K=5 T=5 L=5
and K=50 T=11 L=5, batch 128: Algorithm 1 of "Improving Importance Weighted Auto-Encoders with Annealed Importance
Sampling", Ding and Freedman, arXiv:1906.04904), and AIS evaluation (16 chains, L=10). Adam with eps 1e-4 as in the
paper. It measures what a user would pick instead; compare ratios taken in the same period on the same machine,
never absolute figures across machines or runs (docs/performance.md).

Usage: python3 bench/torch/torch_aiwae.py [THREADS] [DEVICE] [SECONDS]
  THREADS  intra-op threads (default 2)           DEVICE  cpu or cuda (default cpu)
  SECONDS  timed seconds per row after one untimed call (default 6; the AIWAE K=50 row gets 2.5x)
e.g. `python3 bench/torch/torch_aiwae.py 2 cpu` on the 2-core CI host, `... 16 cuda` on a GPU machine
(scripts/gpu-check.sh runs `16 cuda 3` beside `bin/aiwae bench --backend cuda`). Needs torch (pip install torch).
"""
import sys, time, math, torch
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
DEV = torch.device(sys.argv[2] if len(sys.argv) > 2 else 'cpu')
if hasattr(torch, 'set_default_device'): torch.set_default_device(DEV)
elif DEV.type == 'cuda': torch.set_default_tensor_type(torch.cuda.FloatTensor)
torch.manual_seed(0)
D, H, Z = 784, 200, 50
enc = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, H), torch.nn.Tanh(), torch.nn.Linear(H, 2 * Z))
dec = torch.nn.Sequential(torch.nn.Linear(Z, H), torch.nn.Tanh(), torch.nn.Linear(H, H), torch.nn.Tanh(), torch.nn.Linear(H, D))
enc.to(DEV); dec.to(DEV)
LOG2PI = math.log(2 * math.pi)

def q_params(x):
    o = enc(x); return o[..., :Z], o[..., Z:].exp()

def log_pxz(x, z):
    logits = dec(z)
    return (-0.5 * z * z - 0.5 * LOG2PI).sum(-1) - torch.nn.functional.binary_cross_entropy_with_logits(logits, x.expand_as(logits), reduction='none').sum(-1)

def log_q(z, mu, sg):
    return (-0.5 * ((z - mu) / sg) ** 2 - 0.5 * LOG2PI - sg.log()).sum(-1)

def energy_grad(z, x, mu, sg, beta):
    z = z.detach().requires_grad_(True)
    lp, lq = log_pxz(x, z), log_q(z, mu, sg)
    U = -(beta * lp + (1 - beta) * lq)
    g, = torch.autograd.grad(U.sum(), z)
    return U.detach(), g

def hmc(z, x, mu, sg, beta, eps, L):
    p0 = torch.randn_like(z); U0, g = energy_grad(z, x, mu, sg, beta)
    q, p = z, p0 - 0.5 * eps * g
    for i in range(L):
        q = q + eps * p
        U1, g = energy_grad(q, x, mu, sg, beta)
        if i != L - 1: p = p - eps * g
    p = p - 0.5 * eps * g
    acc = torch.rand_like(U0) < torch.exp(U0 + 0.5 * (p0 ** 2).sum(-1) - U1 - 0.5 * (p ** 2).sum(-1))
    return torch.where(acc[..., None], q.detach(), z), acc.float().mean().item()

opt_d = torch.optim.Adam(dec.parameters(), lr=1e-3, eps=1e-4)
opt_e = torch.optim.Adam(enc.parameters(), lr=1e-3, eps=1e-4)

def aiwae_step(x, K, T, L, eps=0.1):
    betas = [t / (T - 1) for t in range(T)]
    with torch.no_grad():
        mu, sg = q_params(x); mu, sg = mu.expand(K, *mu.shape), sg.expand(K, *sg.shape)
        z = mu + sg * torch.randn_like(mu); logw = torch.zeros(K, x.shape[0], device=DEV)
    for t in range(1, T):
        with torch.no_grad(): logw += (betas[t] - betas[t - 1]) * (log_pxz(x, z) - log_q(z, mu, sg))
        z, _ = hmc(z, x, mu, sg, betas[t], eps, L)
    w = torch.softmax(logw, 0)
    loss = -(w * log_pxz(x, z.detach())).sum(0).mean()
    opt_d.zero_grad(); loss.backward(); opt_d.step()
    mu, sg = q_params(x); z = mu + sg * torch.randn_like(mu)
    lossq = -(log_pxz(x, z) - log_q(z, mu, sg)).mean()
    opt_e.zero_grad(); lossq.backward(); opt_e.step()

def iwae_step(x, K):
    mu, sg = q_params(x); mu, sg = mu.expand(K, *mu.shape), sg.expand(K, *sg.shape)
    z = mu + sg * torch.randn_like(mu)
    lw = log_pxz(x, z) - log_q(z, mu, sg)
    loss = -(torch.logsumexp(lw, 0) - math.log(K)).mean()
    opt_d.zero_grad(); opt_e.zero_grad(); loss.backward(); opt_d.step(); opt_e.step()

def ais_eval(x, chains, temps, L, eps=0.05):
    with torch.no_grad():
        mu, sg = q_params(x); mu, sg = mu.expand(chains, *mu.shape), sg.expand(chains, *sg.shape)
        z = mu + sg * torch.randn_like(mu); logw = torch.zeros(chains, x.shape[0], device=DEV)
    for t in range(1, temps):
        b0, b1 = (t - 1) / (temps - 1), t / (temps - 1)
        with torch.no_grad(): logw += (b1 - b0) * (log_pxz(x, z) - log_q(z, mu, sg))
        z, _ = hmc(z, x, mu, sg, b1, eps, L)
    return torch.logsumexp(logw, 0) - math.log(chains)

def sync():
    if DEV.type == 'cuda': torch.cuda.synchronize()

SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 6.0

def rate(fn, items, secs=None):
    secs = SECONDS if secs is None else secs
    fn(); sync(); n = 0; t0 = time.perf_counter()
    while time.perf_counter() - t0 < secs: fn(); n += 1
    sync()
    return items * n / (time.perf_counter() - t0)

x128 = torch.bernoulli(torch.rand(128, D)); x20 = torch.bernoulli(torch.rand(20, D)); x100 = torch.bernoulli(torch.rand(100, D))
print("threads", torch.get_num_threads(), "device", DEV, "torch", torch.__version__)
print("iwae K=5 batch=20: %.0f examples/s" % rate(lambda: iwae_step(x20, 5), 20))
print("iwae K=50 batch=20: %.0f examples/s" % rate(lambda: iwae_step(x20, 50), 20))
print("aiwae K=5 T=5 L=5 batch=128: %.1f examples/s" % rate(lambda: aiwae_step(x128, 5, 5, 5), 128))
print("aiwae K=50 T=11 L=5 batch=128: %.2f examples/s" % rate(lambda: aiwae_step(x128, 50, 11, 5), 128, 2.5 * SECONDS))
r = rate(lambda: ais_eval(x100, 16, 20, 10), 100 * 16 * 19)
print("ais eval chains=16 L=10: %.0f chain-temperature steps/s" % r)
