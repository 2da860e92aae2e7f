"""Small torch models and the state dicts / training checkpoints they give (for make_corpus.py).

Everything is built with fixed seeds, on the CPU, in plain torch (no torchvision).
"""

import argparse
import copy
from collections import OrderedDict

import torch
from torch import nn


class SmallNet(nn.Module):
    """conv + BatchNorm + Linear: the smallest model whose state dict has every usual piece
    (weights, biases, running stats, a 0-dim int64 num_batches_tracked)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, kernel_size=3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 2 * 2, 5)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(x.flatten(1))


def small_net(seed=0, train_batches=2):
    """A SmallNet whose BatchNorm has seen `train_batches` batches (non-trivial running stats)."""
    torch.manual_seed(seed)
    model = SmallNet()
    model.train()
    with torch.no_grad():
        for _ in range(train_batches):
            model(torch.randn(2, 3, 4, 4))
    return model


def small_state_dict(seed=0):
    return small_net(seed).state_dict()


def data_parallel_state_dict(seed=0):
    """nn.DataParallel(model).state_dict(): keys start with "module." (works without GPUs)."""
    return nn.DataParallel(small_net(seed)).state_dict()


COMPILED_PREFIX = "_orig_mod."


def compiled_state_dict(seed=0):
    """torch.compile(model).state_dict(): keys start with "_orig_mod." (nothing is compiled
    until the module is called). Where torch.compile is unavailable (a Python that dynamo does
    not support), the same dict is made by renaming the keys and the _metadata entries."""
    model = small_net(seed)
    try:
        return torch.compile(model).state_dict()
    except Exception:  # noqa: BLE001 - any failure means: build it by hand
        plain = model.state_dict()
        renamed = OrderedDict((COMPILED_PREFIX + k, v) for k, v in plain.items())
        renamed._metadata = OrderedDict([("", {"version": 1})] + [
            (COMPILED_PREFIX + k if k else COMPILED_PREFIX[:-1], v)
            for k, v in plain._metadata.items()])
        return renamed


# --------------------------------------------------------------------------------------------
# resnet18-shaped, narrowed
# --------------------------------------------------------------------------------------------

class BasicBlock(nn.Module):
    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))


class ResNet18Shaped(nn.Module):
    """torchvision's resnet18 module tree (same state-dict keys, 122 entries) with every channel
    count divided by `64 // width`, so the file stays a few MB."""

    def __init__(self, width=16, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        planes = [width, width * 2, width * 4, width * 8]
        inplanes = width
        for i, p in enumerate(planes):
            stride = 1 if i == 0 else 2
            layer = nn.Sequential(BasicBlock(inplanes, p, stride), BasicBlock(p, p, 1))
            setattr(self, "layer%d" % (i + 1), layer)
            inplanes = p
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)


def resnet18_shaped_state_dict(seed=0, width=16):
    torch.manual_seed(seed)
    return ResNet18Shaped(width).state_dict()


# --------------------------------------------------------------------------------------------
# Training checkpoint
# --------------------------------------------------------------------------------------------

def training_args():
    return argparse.Namespace(
        arch="smallnet", data="/data/imagenet", epochs=90, lr=0.1, momentum=0.9,
        weight_decay=1e-4, batch_size=256, gpu=None, pretrained=False, milestones=[30, 60],
        seed=0)


def training_checkpoint(args_as_namespace=False, seed=0):
    """The dict a typical training script saves: model, two optimizers' state after two steps,
    an LR scheduler, the epoch, the RNG state and the command-line args (as a dict via vars(),
    or as the argparse.Namespace itself)."""
    model = small_net(seed)
    adamw_model = copy.deepcopy(model)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    adamw = torch.optim.AdamW(adamw_model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(sgd, step_size=3, gamma=0.1)
    torch.manual_seed(seed + 1)
    for _ in range(2):
        x = torch.randn(2, 3, 4, 4)
        for m, opt in ((model, sgd), (adamw_model, adamw)):
            opt.zero_grad()
            m(x).square().mean().backward()
            opt.step()
        scheduler.step()
    torch.manual_seed(seed + 2)
    args = training_args()
    return {
        "epoch": 7,
        "arch": "smallnet",
        "model": model.state_dict(),
        "optimizer": sgd.state_dict(),
        "optimizer_adamw": adamw.state_dict(),
        "lr_scheduler": scheduler.state_dict(),
        "best_acc1": 0.875,
        "rng_state": torch.get_rng_state(),
        "args": args if args_as_namespace else vars(args),
    }
