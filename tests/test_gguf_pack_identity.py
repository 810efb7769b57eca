"""The fast GGUF → int kernel conversion (engine/gguf_packed.py) makes exactly the tensors that the
old one made (devkit/pack_reference.py, kept as it was): the same int8/int4 bytes and the same
bfloat16 scales, bit for bit, for every format it converts, at shapes with odd row counts, with
the row slices both whole and cut small (so a row never straddles two slices by mistake)."""

import gguf
import numpy as np
import pytest
import torch
from diffusers.quantizers.gguf.utils import GGUFParameter

from zimage_desktop.devkit import pack_reference
from zimage_desktop.devkit.gguf_files import encode_tensor
from zimage_desktop.engine import gguf_packed
from zimage_desktop.engine.gguf_packed import PackedGGUFLinear


def _weight(kind: str, rows: int, cols: int, seed: int = 0) -> GGUFParameter:
    """Random values quantized by the devkit's writers (ggml's reference quantizers), rows spanning
    six decades of magnitude, one row all zeros and one with a single spike."""
    rng = np.random.default_rng(seed)
    values = (rng.standard_normal((rows, cols)) * np.logspace(-4, 2, rows)[:, None]).astype(np.float32)
    values[rows // 3] = 0
    values[rows // 2, cols // 3] = 50 * np.abs(values[rows // 2]).max()
    blocks, raw = encode_tensor(values, kind)
    assert raw is not None and raw.name == kind
    return GGUFParameter(torch.from_numpy(blocks), quant_type=raw)


def _bits(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous().view(torch.int16 if t.dtype == torch.bfloat16 else torch.uint8)


def _assert_identical(got: tuple, want: tuple) -> None:
    assert got[0] == want[0]
    for mine, theirs in zip(got[1:], want[1:]):
        assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
        assert torch.equal(_bits(mine), _bits(theirs)), f"{got[0]} tensors differ"


def _new(weight: GGUFParameter) -> tuple:
    layer = torch.nn.Linear(1, 1, bias=False)  # only for from_gguf's .weight (and no bias)
    layer.weight = torch.nn.Parameter(weight, requires_grad=False)
    packed = PackedGGUFLinear.from_gguf(layer)
    return packed.kind, packed.weight.data, packed.scales.data


CASES = [("Q4_K", 64, 512), ("Q4_K", 48, 768), ("Q4_K", 96, 256),  # 48: the kernel's own 16-row tail
         ("Q6_K", 64, 512), ("Q6_K", 37, 768), ("Q6_K", 1, 256),
         ("Q8_0", 33, 96), ("Q8_0", 64, 512),
         ("Q5_K", 21, 512)]  # no decoder of ours: gguf-py's values, then the same per-row int8


@pytest.mark.parametrize("slice_values", [None, 700])
@pytest.mark.parametrize("kind,rows,cols", CASES)
def test_conversion_is_the_old_one_bit_for_bit(kind, rows, cols, slice_values, monkeypatch):
    if slice_values is not None:  # a few rows a slice (at least one), so most rows sit in later slices
        monkeypatch.setattr(gguf_packed, "SLICE_VALUES", slice_values)
    weight = _weight(kind, rows, cols, seed=rows)
    want = pack_reference.convert(weight)
    assert want[0] == ("int4" if kind == "Q4_K" else "int8")
    _assert_identical(_new(weight), want)


def test_int8_rows_of_plain_values_is_the_old_one(monkeypatch):
    values = torch.randn(45, 300, generator=torch.Generator().manual_seed(3)) * torch.logspace(-5, 3, 45)[:, None]
    values[4] = 0
    want = pack_reference.int8_rows(values)
    _assert_identical(("int8", *gguf_packed.int8_rows(values)), ("int8", *want))
    monkeypatch.setattr(gguf_packed, "SLICE_VALUES", 301)  # one row a slice
    _assert_identical(("int8", *gguf_packed.int8_rows(values)), ("int8", *want))


def test_q8_0_level_minus_128_and_hand_checked_scales():
    """A Q8_0 block may hold −128 (llama.cpp's writer never does; a file may): the row's scale comes
    from |−128·d|, worked out here by hand."""
    cols = 64
    blocks = np.zeros((2, cols // 32, 34), np.uint8)
    blocks[:, :, :2] = np.frombuffer(np.float16(0.5).tobytes(), np.uint8)
    blocks[0, 0, 2:] = np.arange(-16, 16, dtype=np.int8).view(np.uint8)
    blocks[0, 1, 2] = np.int8(-128).view(np.uint8)
    blocks[1, :, 2:] = np.int8(3).view(np.uint8)
    weight = GGUFParameter(torch.from_numpy(blocks.reshape(2, -1)), quant_type=gguf.GGMLQuantizationType.Q8_0)
    kind, levels, step = _new(weight)
    _assert_identical((kind, levels, step), pack_reference.convert(weight))
    # Row 0: largest |value| 128·0.5 = 64; 64/127·(1+2⁻⁸) = 0.50591 → bfloat16 130/256 = 0.5078125.
    # Row 1: 1.5/127·(1+2⁻⁸) = 0.0118571 → bfloat16 194/128·2⁻⁷; 1.5/0.0118408 = 126.68 → 127.
    assert step.float().tolist() == [130 / 256, 194 / 128 * 2**-7]
    assert levels[0, 32].item() == -126  # −64/0.5078125 = −126.03
    assert levels[1].tolist() == [127] * cols
    assert levels[0, :32].tolist() == [round(q * 0.5 / (130 / 256)) for q in range(-16, 16)]


def test_q4_k_rows_the_int4_packing_refuses_become_int8():
    """40 rows (not a multiple of 16): the old conversion stopped the load with the kernel's error;
    the layer now takes the int8 form, made exactly as any other type's."""
    weight = _weight("Q4_K", 40, 256)
    kind, levels, step = _new(weight)
    assert kind == "int8"
    want_levels, want_step = pack_reference.int8_rows(pack_reference.exact_values(weight))
    assert torch.equal(levels, want_levels) and torch.equal(_bits(step), _bits(want_step))
    with pytest.raises(RuntimeError):
        pack_reference.int4_pack(weight)


PROBE = """
import sys, torch
from tests.test_gguf_pack_identity import _new, _weight, _assert_identical
from zimage_desktop.devkit import pack_reference
from zimage_desktop.engine import gguf_packed
print(torch.backends.cpu.get_cpu_capability(), gguf_packed.int4_layout())
for rows in (64, 128, 192, 80, 112):
    weight = _weight("Q4_K", rows, 512, seed=rows)
    _assert_identical(_new(weight), pack_reference.convert(weight))
"""


@pytest.mark.parametrize("capability,layout", [("avx512", (64, False)), ("avx2", (32, False)), ("default", (32, True))])
def test_int4_packing_matches_torchs_on_every_cpu_kernel(capability, layout):
    """torch lays int4 levels out by the CPU kernel it picked (AVX-512: 64-row blocks; AVX2: 32;
    neither: adjacent rows), and a wrong layout gives a wrong picture, not an error (an AVX-512
    machine showed it). Each kernel this CPU has is forced in its own process (ATEN_CPU_CAPABILITY
    only lowers it): the layout found by the probe is the expected one, and the packed bytes are
    torch's own, including the rows left over after the last whole block."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    reported, found = done.stdout.split(maxsplit=1)
    if reported.lower() != capability:
        pytest.skip(f"this CPU has no {capability} kernels (torch picked {reported})")
    assert found.strip() == str(layout)
