"""PyTorch 1.13 CPU reference for `npm run bench:train`: the same GAN training steps Gantry benchmarks.

Prints one JSON line per model: {"model", "images_per_second", "seconds_per_step", "threads", "steps"}.
Only for benchmarking (Debian's python3-torch); Gantry never depends on it at run time.
"""
import argparse
import json
import os
import sys
import time

import torch
from torch import nn


def init_dcgan(module):
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)


class Reshape(nn.Module):
    def __init__(self, *shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.view(x.shape[0], *self.shape)


def dcgan(side, channels, latent, g_width, d_width):
    """DCGAN sized like Gantry's: 28 -> 7*2^2, otherwise 4*2^k; k4 s2 'same' (padding 1) convolutions."""
    stages = 2 if side == 28 else {8: 1, 16: 2, 32: 3, 64: 4, 128: 5}[side]
    start = side // 2 ** stages
    g = [nn.Linear(latent, start * start * g_width, bias=False), nn.BatchNorm1d(start * start * g_width), nn.ReLU(),
         Reshape(g_width, start, start)]
    width = g_width
    for _ in range(1, stages):
        g += [nn.ConvTranspose2d(width, max(1, width // 2), 4, 2, 1, bias=False), nn.BatchNorm2d(max(1, width // 2)), nn.ReLU()]
        width = max(1, width // 2)
    g += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
    d = []
    width, size = channels, side
    for stage in range(stages):
        out = d_width << stage
        d += [nn.Conv2d(width, out, 4, 2, 1), nn.LeakyReLU(0.2)]
        size //= 2
        width = out
    d += [nn.Flatten(), nn.Linear(width * size * size, 1)]
    G, D = nn.Sequential(*g), nn.Sequential(*d)
    G.apply(init_dcgan)
    D.apply(init_dcgan)
    return G, D


def nonsaturating_step(G, D, opt_g, opt_d, real, latent):
    n = real.shape[0]
    softplus = nn.functional.softplus
    z = torch.randn(n, latent)
    fake = G(z).detach()
    d_loss = softplus(-D(real)).mean() + softplus(D(fake)).mean()
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    z = torch.randn(n, latent)
    g_loss = softplus(-D(G(z))).mean()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()


def wgan_gp_step(G, D, opt_g, opt_d, real, latent, gp_lambda=10.0):
    n = real.shape[0]
    z = torch.randn(n, latent)
    fake = G(z).detach()
    eps = torch.rand(n, 1, 1, 1)
    mixed = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad, = torch.autograd.grad(D(mixed).sum(), mixed, create_graph=True)
    penalty = ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()
    d_loss = D(fake).mean() - D(real).mean() + gp_lambda * penalty
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    z = torch.randn(n, latent)
    g_loss = -D(G(z)).mean()
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()


class Maxout(nn.Module):
    """A maxout layer as Gantry builds it: Dense(width * pieces), pieces-major, max over the pieces."""

    def __init__(self, inputs, width, pieces):
        super().__init__()
        self.width, self.pieces = width, pieces
        self.linear = nn.Linear(inputs, width * pieces)

    def forward(self, x):
        return self.linear(x).view(x.shape[0], self.pieces, self.width).max(dim=1).values


def pacgan_players(pack, latent=2, g_widths=(400, 400, 400, 400), d_widths=(200, 200, 200), pieces=5):
    """PacGAN's grid setup as its published code has it: no bias before G's batch norms, N(0, 0.02) weights."""
    g, width = [], latent
    for out in g_widths:
        g += [nn.Linear(width, out, bias=False), nn.BatchNorm1d(out), nn.ReLU()]
        width = out
    g += [nn.Linear(width, 2)]
    d, width = [], 2 * pack
    for out in d_widths:
        d += [Maxout(width, out, pieces)]
        width = out
    d += [nn.Linear(width, 1)]
    G, D = nn.Sequential(*g), nn.Sequential(*d)
    G.apply(init_dcgan)
    D.apply(init_dcgan)
    return G, D


def simultaneous_step(G, D, opt_g, opt_d, real, latent, pack):
    """PacGAN's update (ALI's algorithm): both gradients from one batch at the current weights, then both applied."""
    n = real.shape[0] // pack
    softplus = nn.functional.softplus
    fake = G(torch.randn(n * pack, latent))
    d_loss = softplus(-D(real.view(n, -1))).mean() + softplus(D(fake.detach().view(n, -1))).mean()
    g_loss = softplus(-D(fake.view(n, -1))).mean()
    d_grads = torch.autograd.grad(d_loss, list(D.parameters()))
    g_grads = torch.autograd.grad(g_loss, list(G.parameters()))
    for p, grad in zip(D.parameters(), d_grads):
        p.grad = grad
    for p, grad in zip(G.parameters(), g_grads):
        p.grad = grad
    opt_d.step()
    opt_g.step()


def grid_points(count):
    """Samples of the grid of 25 Gaussians (std 0.05 at {-4,-2,0,2,4}^2)."""
    centres = torch.tensor([[x, y] for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)], dtype=torch.float32)
    return centres[torch.randint(0, 25, (count,))] + 0.05 * torch.randn(count, 2)


# name: (pack); batch 100 packed inputs, Adam 1e-4 with beta1 0.8 (PacGAN's config).
TOY_MODELS = {"mode-collapse-gan": 1, "mode-collapse-pacgan2": 2}

MODELS = {
    # name: (side, channels, g_width, d_width, step, adam betas, learning rate); the critic of the
    # WGAN-GP step is the same DCGAN discriminator, so the two frameworks run identical networks.
    "dcgan-mnist": (28, 1, 128, 64, nonsaturating_step, (0.5, 0.999), 2e-4),
    "dcgan-64": (64, 3, 512, 64, nonsaturating_step, (0.5, 0.999), 2e-4),
    "wgan-gp-mnist": (28, 1, 128, 64, wgan_gp_step, (0.0, 0.9), 1e-4),
}


def loaded_blas():
    """The BLAS library PyTorch's process actually mapped (Debian switches it with update-alternatives)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "blas" in line and line.split()[-1].startswith("/")}
    except OSError:
        return "unknown"
    return ", ".join(sorted(paths)) or "none"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", choices=sorted([*MODELS, *TOY_MODELS]), action="append")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="0: one per core (this Debian build defaults to 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads if args.threads > 0 else os.cpu_count() or 1)
    torch.manual_seed(0)
    for name in args.model or ["dcgan-mnist"]:
        if name in TOY_MODELS:
            toy_bench(name, TOY_MODELS[name], args)
            continue
        side, channels, g_width, d_width, step, betas, lr = MODELS[name]
        G, D = dcgan(side, channels, 100, g_width, d_width)
        opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=betas)
        opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=betas)
        real = torch.rand(args.batch, channels, side, side) * 2 - 1
        for _ in range(args.warmup):
            step(G, D, opt_g, opt_d, real, 100)
        start = time.perf_counter()
        for _ in range(args.steps):
            step(G, D, opt_g, opt_d, real, 100)
        seconds = (time.perf_counter() - start) / args.steps
        print(json.dumps({"model": name, "images_per_second": args.batch / seconds, "seconds_per_step": seconds,
                          "threads": torch.get_num_threads(), "steps": args.steps, "blas": loaded_blas()}), flush=True)


def toy_bench(name, pack, args):
    batch = 100
    G, D = pacgan_players(pack)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.8, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.8, 0.999))
    real = grid_points(batch * pack)
    for _ in range(args.warmup):
        simultaneous_step(G, D, opt_g, opt_d, real, 2, pack)
    start = time.perf_counter()
    for _ in range(args.steps):
        simultaneous_step(G, D, opt_g, opt_d, real, 2, pack)
    seconds = (time.perf_counter() - start) / args.steps
    print(json.dumps({"model": name, "images_per_second": batch / seconds, "seconds_per_step": seconds,
                      "threads": torch.get_num_threads(), "steps": args.steps, "blas": loaded_blas()}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
