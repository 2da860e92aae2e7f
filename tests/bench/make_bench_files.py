"""Writes the load benchmark's checkpoints with real torch 2.13 (skips files that exist).

big.pt       32 x 4096x4096 float32 state dict (2 GiB)
resnet152.pt a resnet152-shaped state dict (conv/bn/fc names and shapes as torchvision's), ~241 MB
"""
import os
import sys
from collections import OrderedDict

import torch


def resnet152_state_dict():
    sd = OrderedDict()
    g = torch.Generator().manual_seed(0)

    def conv(name, cin, cout, k):
        sd[name + ".weight"] = torch.randn(cout, cin, k, k, generator=g)

    def bn(name, c):
        sd[name + ".weight"] = torch.ones(c)
        sd[name + ".bias"] = torch.zeros(c)
        sd[name + ".running_mean"] = torch.zeros(c)
        sd[name + ".running_var"] = torch.ones(c)
        sd[name + ".num_batches_tracked"] = torch.tensor(0)

    conv("conv1", 3, 64, 7)
    bn("bn1", 64)
    inplanes = 64
    for li, (planes, blocks) in enumerate([(64, 3), (128, 8), (256, 36), (512, 3)], start=1):
        for b in range(blocks):
            p = f"layer{li}.{b}"
            conv(p + ".conv1", inplanes, planes, 1)
            bn(p + ".bn1", planes)
            conv(p + ".conv2", planes, planes, 3)
            bn(p + ".bn2", planes)
            conv(p + ".conv3", planes, planes * 4, 1)
            bn(p + ".bn3", planes * 4)
            if b == 0:
                conv(p + ".downsample.0", inplanes, planes * 4, 1)
                bn(p + ".downsample.1", planes * 4)
            inplanes = planes * 4
    sd["fc.weight"] = torch.randn(1000, 2048, generator=g)
    sd["fc.bias"] = torch.zeros(1000)
    return sd


def main(out):
    os.makedirs(out, exist_ok=True)
    big = os.path.join(out, "big.pt")
    if not os.path.exists(big):
        sd = OrderedDict((f"layer{i}.weight", torch.full((4096, 4096), float(i))) for i in range(32))
        torch.save(sd, big)
    res = os.path.join(out, "resnet152.pt")
    if not os.path.exists(res):
        sd = resnet152_state_dict()
        assert len(sd) == 932, len(sd)
        torch.save(sd, res)


if __name__ == "__main__":
    main(sys.argv[1])
