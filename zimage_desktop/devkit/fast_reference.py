"""engine/gguf_fast.py's Q4_K and Q6_K decoders as they were before round 36 (issue 28), kept
unchanged as the baseline of bench/fast_decode_speed.py and the reference that the engine's
decoders must match bit for bit (tests/test_gguf_fast.py).

Do not "improve" this file: its worth is that it is the old algorithm, whole-tensor byte
operations on strided views into fresh uint8 tensors (about 1.8 ns a weight on two cores).
"""

from __future__ import annotations

import torch
from diffusers.quantizers.gguf.utils import get_scale_min

QK_K = 256


def q4_k(raw: torch.Tensor, rows: int, cols: int, out: torch.Tensor) -> torch.Tensor:
    nb = cols // QK_K
    blocks = raw.view(rows, nb, 144)
    d = blocks[..., 0:2].contiguous().view(torch.float16).float()
    dmin = blocks[..., 2:4].contiguous().view(torch.float16).float()
    sc, m = get_scale_min(blocks[..., 4:16].reshape(rows * nb, 12))
    scale = (d * sc.view(rows, nb, 8).float()).view(rows, nb * 8, 1)
    offset = (dmin * m.view(rows, nb, 8).float()).view(rows, nb * 8, 1)
    qs = blocks[..., 16:].view(rows, nb, 4, 32)
    levels = torch.empty(rows, nb, 4, 2, 32, dtype=torch.uint8)
    torch.bitwise_and(qs, 15, out=levels[..., 0, :])  # low nibbles: sub-block 2j
    torch.bitwise_right_shift(qs, 4, out=levels[..., 1, :])  # high nibbles: sub-block 2j+1
    grouped = out.view(rows, nb * 8, 32)
    grouped.copy_(levels.view(rows, nb * 8, 32))
    return grouped.mul_(scale).sub_(offset).view(rows, cols)


def q6_k(raw: torch.Tensor, rows: int, cols: int, out: torch.Tensor) -> torch.Tensor:
    nb = cols // QK_K
    blocks = raw.view(rows, nb, 210)
    ql, qh = blocks[..., :128].view(rows, nb, 2, 64), blocks[..., 128:192].view(rows, nb, 2, 32)
    levels = torch.empty(rows, nb, 2, 128, dtype=torch.uint8)
    by_nibble = levels.view(rows, nb, 2, 2, 64)
    torch.bitwise_and(ql, 15, out=by_nibble[..., 0, :])
    torch.bitwise_right_shift(ql, 4, out=by_nibble[..., 1, :])
    by_quarter = levels.view(rows, nb, 2, 4, 32)
    high = torch.empty_like(qh)
    for shift in range(4):
        torch.bitwise_right_shift(qh, 2 * shift, out=high)
        high.bitwise_and_(3).bitwise_left_shift_(4)
        by_quarter[..., shift, :].bitwise_or_(high)
    levels.sub_(32)  # wraps in uint8: read as int8 it is q − 32
    scales = blocks[..., 192:208].view(torch.int8).float()
    d = blocks[..., 208:210].contiguous().view(torch.float16).float()
    grouped = out.view(rows, nb * 16, 16)
    grouped.copy_(levels.view(torch.int8).view(rows, nb * 16, 16))
    return grouped.mul_((d * scales).view(rows, nb * 16, 1)).view(rows, cols)


DECODERS = {"Q4_K": q4_k, "Q6_K": q6_k}
