"""The modules the AOTInductor fixtures compile (tests/python/make_aoti.py).

make_aoti.py keys its compile cache by this file's bytes and the torch version: change a model
here and the packages are compiled again; change anything else and the cached ones are reused.
"""
import torch
from torch.export import Dim

SEED = 20261206
CHANNELS = 3
SIDE = 16
CLASSES = 10
FEATURES = 8
STATIC_BATCH = 2
DYNAMIC_MIN = 2
DYNAMIC_MAX = 8


class SmallCnn(torch.nn.Module):
    """conv -> batch norm -> relu -> global average pool -> linear; eval mode."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(CHANNELS, FEATURES, 3, padding=1)
        self.bn = torch.nn.BatchNorm2d(FEATURES)
        self.fc = torch.nn.Linear(FEATURES, CLASSES)

    def features(self, x):
        h = torch.relu(self.bn(self.conv(x)))
        return h.mean(dim=(2, 3))

    def forward(self, x):
        return self.fc(self.features(x))


class TwoInOut(SmallCnn):
    """Two inputs (images with a dynamic batch, a static shift), two outputs."""

    def forward(self, x, shift):
        pooled = self.features(x)
        return self.fc(pooled) + shift, pooled


def cnn():
    """(module, example args, dynamic_shapes) of the static package."""
    torch.manual_seed(SEED)
    m = SmallCnn().eval()
    with torch.no_grad():  # running statistics that are not the identity
        m.bn.running_mean.uniform_(-0.5, 0.5)
        m.bn.running_var.uniform_(0.5, 2.0)
    return m, (torch.randn(STATIC_BATCH, CHANNELS, SIDE, SIDE),), None


def dynamic():
    """(module, example args, dynamic_shapes) of the package with a dynamic batch."""
    torch.manual_seed(SEED + 1)
    m = TwoInOut().eval()
    batch = Dim("batch", min=DYNAMIC_MIN, max=DYNAMIC_MAX)
    args = (torch.randn(3, CHANNELS, SIDE, SIDE), torch.randn(CLASSES))
    return m, args, ({0: batch}, None)


# Name -> (maker, inductor_configs). The static package keeps its weights swappable: with
# runtime constant folding Inductor keeps every original parameter and buffer a constant and folds
# (batch norm into the convolution...) when the package runs; without it (the default, used for
# the dynamic package) it folds at compile time and bakes the folded values into the code.
SWAPPABLE = {"aot_inductor.use_runtime_constant_folding": True}
MODELS = {"cnn": (cnn, SWAPPABLE), "dynamic": (dynamic, {})}
