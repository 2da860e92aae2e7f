"""torchvision's ResNet, written out in plain torch (torchvision does not import with the CPU
torch of the build).

The module tree, the attribute names, the order in which __init__ assigns them and the forward
pass follow torchvision.models.resnet (ResNet v1.5: a Bottleneck strides in its 3x3 conv), so
`state_dict()` gives torchvision's keys in torchvision's order and a torchvision checkpoint loads
strictly. `width` narrows every stage (torchvision: 64, 128, 256, 512 for width=64) without
changing a name; `num_classes` sizes fc.

    python3 tests/python/reference_resnet.py     # checks the key list against the architecture
"""

import torch
from torch import nn

#: torchvision's architectures: block type and blocks per stage (layer1..layer4).
ARCHS = {
    "resnet18": ("basic", (2, 2, 2, 2)),
    "resnet34": ("basic", (3, 4, 6, 3)),
    "resnet50": ("bottleneck", (3, 4, 6, 3)),
    "resnet101": ("bottleneck", (3, 4, 23, 3)),
    "resnet152": ("bottleneck", (3, 8, 36, 3)),
}

#: torchvision's stem width (conv1's out_channels, layer1's planes).
FULL_WIDTH = 64


def conv3x3(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes, out_planes, stride=1):
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        identity = x
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.downsample is not None:
            identity = self.downsample(x)
        out += identity
        return self.relu(out)


BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=1000, width=FULL_WIDTH):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)
        # torchvision's initialisation
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                conv1x1(self.inplanes, planes * block.expansion, stride),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = torch.flatten(self.avgpool(x), 1)
        return self.fc(x)


def resnet(arch, num_classes=1000, width=FULL_WIDTH):
    """torchvision.models.<arch>(num_classes=...) with every stage narrowed to `width`/64."""
    block, layers = ARCHS[arch]
    return ResNet(BLOCKS[block], layers, num_classes=num_classes, width=width)


# --------------------------------------------------------------------------------------------
# The key list, derived from the architecture (not from a model instance)
# --------------------------------------------------------------------------------------------

CONV = ("weight",)
BATCH_NORM = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
LINEAR = ("weight", "bias")


def _module_keys(prefix, suffixes):
    return [prefix + "." + s for s in suffixes]


def expected_keys(arch):
    """torchvision's state_dict keys for `arch`, in order, written from the architecture: the
    stem (conv1, bn1), then each stage's blocks in the order their __init__ assigns submodules
    (BasicBlock: conv1 bn1 conv2 bn2 downsample; Bottleneck: conv1 bn1 conv2 bn2 conv3 bn3
    downsample), downsample (a 1x1 conv and a BatchNorm) only in a stage's first block (every
    stage but a BasicBlock layer1 changes stride or width there), then fc. Each module lists its
    parameters before its buffers."""
    block, layers = ARCHS[arch]
    convs = 2 if block == "basic" else 3
    keys = _module_keys("conv1", CONV) + _module_keys("bn1", BATCH_NORM)
    for stage, blocks in enumerate(layers, start=1):
        for index in range(blocks):
            at = "layer%d.%d." % (stage, index)
            for c in range(1, convs + 1):
                keys += _module_keys(at + "conv%d" % c, CONV)
                keys += _module_keys(at + "bn%d" % c, BATCH_NORM)
            if index == 0 and (stage > 1 or block == "bottleneck"):
                keys += _module_keys(at + "downsample.0", CONV)
                keys += _module_keys(at + "downsample.1", BATCH_NORM)
    return keys + _module_keys("fc", LINEAR)


# resnet18 written out once, by hand: 20 modules with weights, 122 entries.
_RESNET18_BLOCK = ["conv1.weight",
                   "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
                   "bn1.num_batches_tracked",
                   "conv2.weight",
                   "bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var",
                   "bn2.num_batches_tracked"]
_DOWNSAMPLE = ["downsample.0.weight",
               "downsample.1.weight", "downsample.1.bias", "downsample.1.running_mean",
               "downsample.1.running_var", "downsample.1.num_batches_tracked"]
RESNET18_KEYS = (
    ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var",
     "bn1.num_batches_tracked"]
    + ["layer1.0." + k for k in _RESNET18_BLOCK]
    + ["layer1.1." + k for k in _RESNET18_BLOCK]
    + ["layer2.0." + k for k in _RESNET18_BLOCK + _DOWNSAMPLE]
    + ["layer2.1." + k for k in _RESNET18_BLOCK]
    + ["layer3.0." + k for k in _RESNET18_BLOCK + _DOWNSAMPLE]
    + ["layer3.1." + k for k in _RESNET18_BLOCK]
    + ["layer4.0." + k for k in _RESNET18_BLOCK + _DOWNSAMPLE]
    + ["layer4.1." + k for k in _RESNET18_BLOCK]
    + ["fc.weight", "fc.bias"])

#: state_dict sizes of torchvision's models, from the architecture: 6 entries per conv+BN pair
#: (conv weight; BN weight, bias, running_mean, running_var, num_batches_tracked) and 2 for fc.
#: Pairs: stem 1 + convs per block (2 basic, 3 bottleneck) x blocks + 1 downsample per stage
#: that has one (3 for resnet18/34, 4 for the bottleneck nets): 20, 36, 53, 104, 155.
EXPECTED_ENTRY_COUNTS = {"resnet18": 122, "resnet34": 218, "resnet50": 320,
                         "resnet101": 626, "resnet152": 932}


def check_names(arch, model):
    """Asserts that `model.state_dict()` has torchvision's keys for `arch`, in order."""
    keys = list(model.state_dict().keys())
    expected = expected_keys(arch)
    assert keys == expected, "%s: state_dict keys differ from torchvision's: %s" % (
        arch, [(k, e) for k, e in zip(keys, expected) if k != e][:3] or (len(keys), len(expected)))
    assert len(keys) == EXPECTED_ENTRY_COUNTS[arch], (arch, len(keys))
    return keys


def self_check():
    assert expected_keys("resnet18") == RESNET18_KEYS
    for arch in ARCHS:
        check_names(arch, resnet(arch, width=8))
    model = resnet("resnet50", num_classes=10, width=8)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes["layer1.0.downsample.0.weight"] == (32, 8, 1, 1), shapes
    assert shapes["layer2.0.conv2.weight"] == (16, 16, 3, 3), shapes
    assert shapes["fc.weight"] == (10, 8 * 8 * 4), shapes
    assert shapes["bn1.num_batches_tracked"] == (), shapes
    print("reference_resnet: key lists of %s match the architecture" % ", ".join(ARCHS))


if __name__ == "__main__":
    self_check()
