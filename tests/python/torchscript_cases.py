"""The TorchScript models of make_torchscript.py: plain-torch modules scripted and traced with the
torch of the build, the inputs each one is run on, and the real-world tch-rs archives with
documented inputs.
"""

import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from torchscript_values import ObjectValue

SEED = 20250601
# Float models whose forward runs conv / matmul kernels: Java's LibTorch (the presets' build) may
# pick other kernels than the wheel's, so their outputs agree to this, not bit for bit.
KERNEL_ATOL = 1e-6
FIXTURE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "real-world"


class ConvNet(nn.Module):
    """conv + bn + relu + a Sequential head, with a non-persistent buffer (TorchScript keeps it in
    state_dict(), unlike eager Python: see README)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.head = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 10))
        self.register_buffer("scale", torch.linspace(0.5, 1.5, 10), persistent=False)

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        return self.head(y.mean(dim=(2, 3))) * self.scale


class TwoHeads(nn.Module):
    """Two inputs, a tuple of two tensors out."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(5, 3)

    def forward(self, x: Tensor, y: Tensor) -> Tuple[Tensor, Tensor]:
        return self.fc(x) + y, (x * x).sum(dim=1)


class DictModel(nn.Module):
    """A Dict[str, Tensor] and a float in, a Dict[str, Tensor] out."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 2)

    def forward(self, batch: Dict[str, Tensor], scale: float) -> Dict[str, Tensor]:
        out: Dict[str, Tensor] = {}
        out["sum"] = batch["a"] + batch["b"] * scale
        out["proj"] = self.proj(batch["a"])
        return out


class Mixed(nn.Module):
    """Every kind of value across the boundary: int, str, bool, Optional, List[Tensor] in; a
    tuple of a list, int, None, str, bool, float and an int64 tensor out."""

    def forward(self, x: Tensor, n: int, tag: str, flag: bool, maybe: Optional[Tensor],
                extra: List[Tensor]) -> Tuple[List[Tensor], int, Optional[Tensor], str, bool,
                                              float, Tensor]:
        parts = list(torch.chunk(x + extra[0] - extra[1], n, dim=0))
        return parts, n * 2, maybe, tag + "!", not flag, float(n) / 4.0, x.argmax(dim=1)


def _filled(module):
    """Gives BatchNorm running statistics that are not the defaults, so they show in checks."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.num_features) * 0.1)
            m.running_var.copy_(torch.rand(m.num_features) + 0.5)
            m.num_batches_tracked.fill_(7)
    return module.eval()


class Case:
    """A model made here: make() gives the ScriptModule, inputs() the arguments of method."""

    def __init__(self, name, description, make, inputs, atol=0.0, method="forward",
                 train_step=False):
        self.name = name
        self.description = description
        self.make = make
        self.inputs = inputs
        self.atol = atol
        self.method = method
        self.train_step = train_step


def _image():
    return torch.randn(2, 3, 8, 8)


def _two_inputs():
    return [torch.randn(4, 5), torch.randn(4, 3)]


def generated_cases():
    return [
        Case("convnet_scripted", "torch.jit.script of conv+bn+relu+Sequential head, eval mode",
             lambda: torch.jit.script(_filled(ConvNet())), lambda: [_image()],
             atol=KERNEL_ATOL, train_step=True),
        Case("convnet_traced", "torch.jit.trace of the same architecture, eval mode",
             lambda: torch.jit.trace(_filled(ConvNet()), _image()), lambda: [_image()],
             atol=KERNEL_ATOL),
        Case("tuple_scripted", "torch.jit.script: (x, y) -> Tuple[Tensor, Tensor]",
             lambda: torch.jit.script(TwoHeads().eval()), _two_inputs, atol=KERNEL_ATOL),
        Case("tuple_traced", "torch.jit.trace: (x, y) -> Tuple[Tensor, Tensor]",
             lambda: torch.jit.trace(TwoHeads().eval(), tuple(_two_inputs())), _two_inputs,
             atol=KERNEL_ATOL),
        Case("dict_scripted", "torch.jit.script: (Dict[str, Tensor], float) -> Dict[str, Tensor]",
             lambda: torch.jit.script(DictModel().eval()),
             lambda: [{"a": torch.randn(3, 4), "b": torch.randn(3, 4)}, 0.25],
             atol=KERNEL_ATOL),
        Case("mixed_scripted", "torch.jit.script: int, str, bool, Optional, List[Tensor] in;"
             " list, int, None, str, bool, float, int64 tensor out",
             lambda: torch.jit.script(Mixed().eval()),
             lambda: [torch.randn(6, 4), 3, "tag", False, None,
                      [torch.randn(6, 4), torch.randn(6, 4)]]),
    ]


class _ObjectX(nn.Module):
    """Python cannot hand a TorchScript class instance back (pybind: "class not found"), so the
    expected attributes of foo6's output come through this wrapper."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(x).x


class RealCase:
    """A committed tch-rs archive with an input documented here."""

    def __init__(self, fixture, description, inputs, method="forward", object_class=None):
        self.fixture = fixture
        self.description = description
        self.inputs = inputs
        self.method = method
        # forward returns an instance of this TorchScript class, whose attribute x is compared
        self.object_class = object_class


def realworld_cases():
    return [
        RealCase("tch-rs__HEAD_tests_foo.pt", "forward(x, y) = 2x + y + self.value (a buffer)",
                 lambda: [torch.randn(3), torch.randn(3)]),
        RealCase("tch-rs__2019-12_tests_foo4.pt",
                 "torch ~1.3 archive; forward(Tuple[float, float, int]) -> float",
                 lambda: [(1.5, 2.5, 3)]),
        RealCase("tch-rs__2022-02_tests_foo6.pt",
                 "forward(x) returns a TorchScriptClass instance holding x",
                 lambda: [torch.randn(2, 2)], object_class="__torch__.TorchScriptClass"),
        RealCase("tch-rs__HEAD_tests_foo8.pt", "no forward; generate(Dict[str, Tensor]) -> tuple",
                 lambda: [{"foo": torch.randn(2), "bar": torch.randn(3)}], method="generate"),
    ]


# The 2019 model.json archives: LibTorch 2.13 cannot read them (nor can torch 2.13 in Python).
OLD_FORMAT_FIXTURES = [
    ("tch-rs__2019-05_torch1.1_tests_foo.pt", "torchscript"),
    ("ParkSeungwon-libtorch__dcgan-sample-1.pt", "libtorch"),
    ("ParkSeungwon-libtorch__net2.pt", "libtorch"),
]


def run(module, method, inputs, object_class=None):
    """What the module's method returns for inputs (an ObjectValue for a class instance)."""
    if object_class is not None:
        wrapper = torch.jit.script(_ObjectX(module))
        return ObjectValue(object_class, {"x": wrapper(*inputs)})
    return getattr(module, method)(*inputs)


def fixture_path(name):
    return os.path.join(FIXTURE_DIR, name)
