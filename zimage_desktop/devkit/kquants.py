"""K-quant writers (Q3_K, Q4_K, Q5_K, Q6_K) for test and benchmark GGUF files.

gguf-py dequantizes every K-quant but quantizes none of them, and real Z-Image / Qwen3 GGUF files
are mostly K-quants. This is a numpy port of the logic of ggml's reference quantizers
(``quantize_row_q*_K_ref`` with ``make_qkx2_quants`` / ``make_qx_quants`` / ``make_q3_quants``),
vectorised over all sub-blocks at once, so full-size files can be written in minutes. The byte
layout is the one ``gguf.quants.dequantize`` and diffusers' GGUF kernels read; tests round-trip
through gguf-py. Arithmetic is float32 like ggml's, but results are not promised to be bit-equal
to llama.cpp's (summation order differs), only equally good.
"""

from __future__ import annotations

import numpy as np

QK_K = 256
GROUP_MAX_EPS = 1e-15
F32 = np.float32


def _fp16(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stored fp16 value and the float32 it reads back as (ggml re-reads its own rounding)."""
    half = values.astype(np.float16)
    return half, half.astype(F32)


def _qkx2(x: np.ndarray, w: np.ndarray, nmax: int, rmin: float, rdelta: float, nstep: int):
    """Per row of ``x``: (scale, min, levels) minimising the weighted squared error of
    ``scale*L - min`` with L in 0…nmax, searched over ``nstep`` + 1 candidate scales."""
    mn = np.minimum(x.min(axis=1), 0).astype(F32)
    mx = x.max(axis=1)
    sum_w = w.sum(axis=1)
    sum_x = (w * x).sum(axis=1)
    span = mx - mn
    flat = span == 0
    span = np.where(flat, F32(1), span)
    iscale = F32(nmax) / span
    scale = F32(1) / iscale
    levels = np.clip(np.rint(iscale[:, None] * (x - mn[:, None])), 0, nmax)
    best = (w * (scale[:, None] * levels + mn[:, None] - x) ** 2).sum(axis=1)
    for step in range(nstep + 1):
        iscale = F32(rmin + rdelta * step + nmax) / span
        trial = np.clip(np.rint(iscale[:, None] * (x - mn[:, None])), 0, nmax)
        sum_l = (w * trial).sum(axis=1)
        sum_l2 = (w * trial * trial).sum(axis=1)
        sum_xl = (w * trial * x).sum(axis=1)
        det = sum_w * sum_l2 - sum_l * sum_l
        ok = det > 0
        safe_det = np.where(ok, det, F32(1))
        this_scale = (sum_w * sum_xl - sum_x * sum_l) / safe_det
        this_min = (sum_l2 * sum_x - sum_l * sum_xl) / safe_det
        positive = this_min > 0
        this_min = np.where(positive, F32(0), this_min)
        this_scale = np.where(positive, sum_xl / np.where(sum_l2 > 0, sum_l2, F32(1)), this_scale)
        err = (w * (this_scale[:, None] * trial + this_min[:, None] - x) ** 2).sum(axis=1)
        better = ok & (err < best)
        best = np.where(better, err, best)
        scale = np.where(better, this_scale, scale)
        mn = np.where(better, this_min, mn)
        levels = np.where(better[:, None], trial, levels)
    scale = np.where(flat, F32(0), scale)
    levels = np.where(flat[:, None], 0, levels)
    return scale.astype(F32), (-mn).astype(F32), levels


def _signed_max(x: np.ndarray) -> np.ndarray:
    """Per row, the element of largest magnitude with its sign."""
    return np.take_along_axis(x, np.abs(x).argmax(axis=1)[:, None], axis=1)[:, 0]


def _qx(x: np.ndarray, nmax: int):
    """Symmetric levels in -nmax…nmax-1 with an x²-weighted least-squares scale, trying 19
    scales around nmax/max (make_qx_quants with rmse_type 1)."""
    peak = _signed_max(x)
    zero = np.abs(peak) < GROUP_MAX_EPS
    peak = np.where(zero, F32(1), peak)
    w = x * x

    def attempt(iscale):
        lv = np.clip(np.rint(iscale[:, None] * x), -nmax, nmax - 1)
        return lv, (w * x * lv).sum(axis=1), (w * lv * lv).sum(axis=1)

    levels, sumlx, suml2 = attempt(F32(-nmax) / peak)
    scale = np.where(suml2 > 0, sumlx / np.where(suml2 > 0, suml2, F32(1)), F32(0))
    best = scale * sumlx
    for step in range(-9, 10):
        if step == 0:
            continue
        lv, slx, sl2 = attempt(-F32(nmax + 0.1 * step) / peak)
        better = (sl2 > 0) & (slx * slx > best * sl2)
        new_scale = slx / np.where(sl2 > 0, sl2, F32(1))
        scale = np.where(better, new_scale, scale)
        best = np.where(better, new_scale * slx, best)
        levels = np.where(better[:, None], lv, levels)
    return np.where(zero, F32(0), scale).astype(F32)


def _q3(x: np.ndarray, nmax: int = 4):
    """make_q3_quants with do_rmse: levels from nmax/max, then up to 5 rounds of moving single
    levels while that improves the x²-weighted fit."""
    peak = _signed_max(x)
    zero = np.abs(peak) < GROUP_MAX_EPS
    peak = np.where(zero, F32(1), peak)
    iscale = F32(-nmax) / peak
    levels = np.clip(np.rint(iscale[:, None] * x), -nmax, nmax - 1).astype(F32)
    w = x * x
    sumlx = (w * x * levels).sum(axis=1)
    suml2 = (w * levels * levels).sum(axis=1)
    for _ in range(5):
        changed = np.zeros(len(x), dtype=bool)
        for i in range(x.shape[1]):
            xi, wi, li = x[:, i], w[:, i], levels[:, i]
            slx = sumlx - wi * xi * li
            sl2 = suml2 - wi * li * li
            with np.errstate(divide="ignore", invalid="ignore"):
                new_l = np.clip(np.rint(xi * sl2 / np.where(slx > 0, slx, F32(1))), -nmax, nmax - 1)
            slx2 = slx + wi * xi * new_l
            sl22 = sl2 + wi * new_l * new_l
            take = (slx > 0) & (new_l != li) & (sl22 > 0) & (slx2 * slx2 * suml2 > sumlx * sumlx * sl22)
            levels[:, i] = np.where(take, new_l, li)
            sumlx = np.where(take, slx2, sumlx)
            suml2 = np.where(take, sl22, suml2)
            changed |= take
        if not changed.any():
            break
    scale = np.where(suml2 > 0, sumlx / np.where(suml2 > 0, suml2, F32(1)), F32(0))
    return np.where(zero, F32(0), scale).astype(F32)


def _pack_scale_min_k4(ls: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Eight 6-bit scales and mins per block into 12 bytes (get_scale_min_k4's layout)."""
    ls, lm = ls.astype(np.uint8), lm.astype(np.uint8)
    out = np.zeros((len(ls), 12), dtype=np.uint8)
    out[:, 0:4] = ls[:, :4] | ((ls[:, 4:] >> 4) << 6)
    out[:, 4:8] = lm[:, :4] | ((lm[:, 4:] >> 4) << 6)
    out[:, 8:12] = (ls[:, 4:] & 0xF) | ((lm[:, 4:] & 0xF) << 4)
    return out


def _affine_k(x: np.ndarray, nmax: int, rmin: float, rdelta: float, nstep: int):
    """Shared part of Q4_K and Q5_K: 8 sub-blocks of 32 with a scale and a min each, both
    quantized to 6 bits against per-block fp16 maxima; returns (d, dmin, packed scales, L)."""
    nb = len(x)
    xs = x.reshape(nb * 8, 32)
    av_x = np.sqrt((xs * xs).mean(axis=1))
    w = av_x[:, None] + np.abs(xs)
    scales, mins, levels = _qkx2(xs, w, nmax, rmin, rdelta, nstep)
    scales, mins, levels = scales.reshape(nb, 8), mins.reshape(nb, 8), levels.reshape(nb, 8, 32)
    max_scale, max_min = scales.max(axis=1), mins.max(axis=1)
    inv_scale = np.where(max_scale > 0, F32(63) / np.where(max_scale > 0, max_scale, F32(1)), F32(0))
    inv_min = np.where(max_min > 0, F32(63) / np.where(max_min > 0, max_min, F32(1)), F32(0))
    ls = np.minimum(63, np.rint(inv_scale[:, None] * scales))
    lm = np.minimum(63, np.rint(inv_min[:, None] * mins))
    d_half, d = _fp16(max_scale / F32(63))
    dmin_half, dmin = _fp16(max_min / F32(63))
    sub_d = d[:, None] * ls
    sub_m = dmin[:, None] * lm
    with np.errstate(divide="ignore", invalid="ignore"):
        requant = np.clip(np.rint((x.reshape(nb, 8, 32) + sub_m[..., None]) / sub_d[..., None]), 0, nmax)
    levels = np.where(sub_d[..., None] != 0, requant, levels).astype(np.uint8)
    return d_half, dmin_half, _pack_scale_min_k4(ls, lm), levels


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    """Blocks (n, 256) of float32 → (n, 144) bytes."""
    d, dmin, scales, levels = _affine_k(x, 15, -1.0, 0.1, 20)
    pairs = levels.reshape(len(x), 4, 2, 32)
    qs = (pairs[:, :, 0] | (pairs[:, :, 1] << 4)).reshape(len(x), 128)
    return np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2), scales, qs], axis=1)


def quantize_q5_k(x: np.ndarray) -> np.ndarray:
    """Blocks (n, 256) of float32 → (n, 176) bytes."""
    d, dmin, scales, levels = _affine_k(x, 31, -0.5, 0.1, 15)
    pairs = levels.reshape(len(x), 4, 2, 32)
    low = pairs & 0xF
    qs = (low[:, :, 0] | (low[:, :, 1] << 4)).reshape(len(x), 128)
    high = (pairs >> 4).astype(np.uint8)  # (n, 4 groups, 2 halves, 32): bit 2*group + half
    shifts = (np.arange(4)[:, None] * 2 + np.arange(2)[None, :]).astype(np.uint8)
    qh = (high << shifts[None, :, :, None]).sum(axis=(1, 2)).astype(np.uint8)
    return np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2), scales, qh, qs],
                          axis=1)


def quantize_q6_k(x: np.ndarray) -> np.ndarray:
    """Blocks (n, 256) of float32 → (n, 210) bytes."""
    nb = len(x)
    xs = x.reshape(nb * 16, 16)
    scales = _qx(xs, 32).reshape(nb, 16)
    peak = _signed_max(scales)
    empty = np.abs(peak) < GROUP_MAX_EPS
    iscale = F32(-128) / np.where(empty, F32(1), peak)
    d_half, d = _fp16(F32(1) / iscale)
    sc = np.minimum(127, np.rint(iscale[:, None] * scales))
    sub_d = d[:, None] * sc
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = np.clip(np.rint(x.reshape(nb, 16, 16) / sub_d[..., None]), -32, 31) + 32
    # ggml leaves levels of a zero-scale sub-block at the first pass's values; they read back as 0 anyway.
    levels = np.where(sub_d[..., None] != 0, levels, 32).reshape(nb, 2, 4, 32).astype(np.uint8)
    q1, q2, q3, q4 = (levels[:, :, k] for k in range(4))
    ql = np.concatenate([(q1 & 0xF) | ((q3 & 0xF) << 4), (q2 & 0xF) | ((q4 & 0xF) << 4)], axis=2).reshape(nb, 128)
    qh = ((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6)).reshape(nb, 64)
    out = np.concatenate([ql, qh, sc.astype(np.int8).view(np.uint8), d_half.view(np.uint8).reshape(-1, 2)], axis=1)
    out[empty] = 0
    return out


def quantize_q3_k(x: np.ndarray) -> np.ndarray:
    """Blocks (n, 256) of float32 → (n, 110) bytes."""
    nb = len(x)
    xs = x.reshape(nb * 16, 16)
    scales = _q3(xs).reshape(nb, 16)
    peak = _signed_max(scales)
    empty = peak == 0
    iscale = F32(-32) / np.where(empty, F32(1), peak)
    ls = (np.clip(np.rint(iscale[:, None] * scales), -32, 31) + 32).astype(np.uint8)
    ls = np.where(empty[:, None], np.uint8(0), ls)
    packed = np.zeros((nb, 12), dtype=np.uint8)
    packed[:, :8] = (ls[:, :8] & 0xF) | ((ls[:, 8:] & 0xF) << 4)
    top = (ls >> 4).reshape(nb, 4, 4)  # scale j = 4*quarter + k → byte 8 + k, bits 2*quarter
    packed[:, 8:] = (top << (np.arange(4, dtype=np.uint8)[None, :, None] * 2)).sum(axis=1).astype(np.uint8)
    d_half, d = _fp16(np.where(empty, F32(0), F32(1) / iscale))
    sub_d = d[:, None] * (ls.astype(F32) - 32)
    with np.errstate(divide="ignore", invalid="ignore"):
        levels = np.clip(np.rint(x.reshape(nb, 16, 16) / sub_d[..., None]), -4, 3) + 4
    levels = np.where(sub_d[..., None] != 0, levels, 4).reshape(nb, QK_K).astype(np.uint8)
    high = (levels > 3).astype(np.uint8).reshape(nb, 8, 32)  # element j → byte j % 32, bit j // 32
    hmask = (high << np.arange(8, dtype=np.uint8)[None, :, None]).sum(axis=1).astype(np.uint8)
    low = (levels & 3).reshape(nb, 2, 4, 32)
    qs = (low[:, :, 0] | (low[:, :, 1] << 2) | (low[:, :, 2] << 4) | (low[:, :, 3] << 6)).reshape(nb, 64)
    return np.concatenate([hmask, qs, packed, d_half.view(np.uint8).reshape(-1, 2)], axis=1)


QUANTIZERS = {"Q3_K": quantize_q3_k, "Q4_K": quantize_q4_k, "Q5_K": quantize_q5_k, "Q6_K": quantize_q6_k}


def quantize(data: np.ndarray, quant: str, chunk_rows: int = 4096) -> np.ndarray:
    """A float array (…, n·256) → the uint8 array gguf's writer takes for ``raw_dtype`` (rows of
    bytes). Rows are processed in chunks to bound the temporaries on full-size tensors."""
    fn = QUANTIZERS[quant]
    data = np.asarray(data, dtype=F32)
    if data.shape[-1] % QK_K:
        raise ValueError(f"{quant} needs rows of a multiple of {QK_K} values, not {data.shape[-1]}.")
    rows = data.reshape(-1, data.shape[-1])
    per_row = data.shape[-1] // QK_K
    parts = [fn(rows[i:i + chunk_rows].reshape(-1, QK_K)).reshape(len(rows[i:i + chunk_rows]), -1)
             for i in range(0, len(rows), chunk_rows)]
    out = np.concatenate(parts) if parts else np.zeros((0, per_row), dtype=np.uint8)
    return out.reshape(*data.shape[:-1], out.shape[-1])
