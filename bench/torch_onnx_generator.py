"""Writes torch.onnx's export of the reference DCGAN generator, for `npm run bench:graph`.

The network is bench/pytorch_reference.py's twin of Gantry's reference G (Dense 100→7·7·128 without bias, BN,
ReLU, ConvTranspose 128→64 k4 s2 without bias, BN, ReLU, ConvTranspose 64→1 k4 s2, tanh), in eval mode, exported
with a dynamic batch axis. Only for benchmarking (Debian's python3-torch); Gantry never depends on it.
Usage: python3 torch_onnx_generator.py OUT.onnx [--opset 17]
"""
import argparse
import sys

import torch

from pytorch_reference import dcgan


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    torch.manual_seed(0)
    G, _ = dcgan(28, 1, 100, 128, 64)
    G.eval()
    latent = torch.randn(2, 100)
    torch.onnx.export(G, latent, args.out, input_names=["latent"], output_names=["images"],
                      dynamic_axes={"latent": {0: "batch"}, "images": {0: "batch"}}, opset_version=min(args.opset, 17))
    return 0


if __name__ == "__main__":
    sys.exit(main())
