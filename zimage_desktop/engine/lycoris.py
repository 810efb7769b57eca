"""LyCORIS LoHa and LoKr layers: read from a file's tensors and applied on the fly like a LoRA.

The maths is ComfyUI's (``comfy/weight_adapter/loha.py`` and ``lokr.py``), which is what the
files' authors test them with:

- LoHa: ``ΔW = (w1_a @ w1_b) ⊙ (w2_a @ w2_b) · alpha / rank`` with rank = ``w1_b.shape[0]``
  (scale 1 without an alpha tensor).
- LoKr: ``ΔW = kron(w1, w2) · alpha / dim``, where ``w1`` is ``lokr_w1`` or ``lokr_w1_a @ lokr_w1_b``
  and ``w2`` likewise; ``dim`` is the rank of the decomposed factor (``w2_b``'s rows when w2 is
  decomposed, else ``w1_b``'s). When both factors are full matrices there is no rank and the scale
  is 1, whatever alpha says — as ComfyUI (and LyCORIS, which then stores alpha = dim) do.

Tucker factors (``hada_t1/t2``, ``lokr_t2``) belong to convolutions; Z-Image's layers are Linear,
where ComfyUI's einsum fails and skips them, so such files are refused by the reader.

Applied without a dense copy where the maths allows: LoKr as ``w1 · X · w2ᵀ`` on the input
reshaped to (b, d) (ComfyUI's bypass forward, LyCORIS' ``bypass_forward_diff``); LoHa's Hadamard
product has no factored form, so its ΔW of one layer is built per forward call (fp32, then cast) and
dropped again — one layer's worth of transient memory, never a second transformer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ..errors import ModelFilesError
from ..messages import msg

if TYPE_CHECKING:
    from pathlib import Path

    import torch

    Moved = Callable[["torch.Tensor", "torch.dtype"], "torch.Tensor"]

LOHA_ROLES = ("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b")
LOKR_ROLES = ("lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b")
TUCKER_ROLES = ("hada_t1", "hada_t2", "lokr_t2")


@dataclass
class LohaLayer:
    """Rows of one LoHa (all of them, or q/k/v's share of a fused qkv)."""

    w1a: "torch.Tensor"  # (out, r1)
    w1b: "torch.Tensor"  # (r1, in)
    w2a: "torch.Tensor"  # (out, r2)
    w2b: "torch.Tensor"  # (r2, in)
    scale: float

    def tensors(self) -> tuple["torch.Tensor", ...]:
        return (self.w1a, self.w1b, self.w2a, self.w2b)

    def dense(self) -> "torch.Tensor":
        """ΔW at strength 1, in float32 (what ComfyUI adds to the weight)."""
        return (self.w1a.float() @ self.w1b.float()) * (self.w2a.float() @ self.w2b.float()) * self.scale

    def change(self, x: "torch.Tensor", moved: "Moved") -> "torch.Tensor":
        import torch

        f32 = torch.float32
        delta = (moved(self.w1a, f32) @ moved(self.w1b, f32)) * (moved(self.w2a, f32) @ moved(self.w2b, f32))
        return torch.nn.functional.linear(x, delta.to(x.dtype))


@dataclass
class LokrLayer:
    """One LoKr: ``kron(w1, w2)``, or rows ``start:stop`` of it (a share of a fused qkv that does not
    fall on w2's row blocks)."""

    w1: "torch.Tensor"  # (a, b)
    w2: "torch.Tensor"  # (c, d): out = a·c, in = b·d
    scale: float
    rows: tuple[int, int] | None = None

    def tensors(self) -> tuple["torch.Tensor", ...]:
        return (self.w1, self.w2)

    def dense(self) -> "torch.Tensor":
        import torch

        full = torch.kron(self.w1.float(), self.w2.float()) * self.scale
        return full if self.rows is None else full[self.rows[0]:self.rows[1]]

    def change(self, x: "torch.Tensor", moved: "Moved") -> "torch.Tensor":
        import torch

        w1, w2 = moved(self.w1, x.dtype), moved(self.w2, x.dtype)
        grouped = x.reshape(*x.shape[:-1], w1.shape[1], w2.shape[1])  # (..., b, d)
        inner = torch.nn.functional.linear(grouped, w2)  # (..., b, c)
        outer = torch.nn.functional.linear(inner.transpose(-1, -2), w1)  # (..., c, a)
        out = outer.transpose(-1, -2).reshape(*x.shape[:-1], -1)  # index i·c + k, as kron orders rows
        return out if self.rows is None else out[..., self.rows[0]:self.rows[1]]


# LohaLayer.change holds (w1a @ w1b), (w2a @ w2b) and their product, all float32, at once.
LOHA_CALL_COPIES = 3


def loha_call_bytes(shapes: dict[str, tuple[int, ...]]) -> int:
    """The largest transient a LoHa hook allocates in one forward call, from a file's header: its
    biggest layer's ΔW (out × in) in float32, three times over (``change``). A fused qkv's hook builds
    q, k and v one at a time, a third of the rows each. LoKr is applied factored (its transient is
    the size of the layer's output, an activation), so it adds nothing here."""
    biggest = 0
    for key, shape in shapes.items():
        if not key.endswith(".hada_w1_a") or len(shape) != 2:
            continue
        stem = key[: -len("hada_w1_a")]
        w1b = shapes.get(stem + "hada_w1_b")
        if w1b is None or len(w1b) != 2:
            continue
        rows = shape[0] // 3 if stem.rstrip("._").endswith("qkv") else shape[0]
        biggest = max(biggest, rows * w1b[1])
    return biggest * 4 * LOHA_CALL_COPIES


def is_loha(group: dict[str, str]) -> bool:
    return all(role in group for role in LOHA_ROLES)


def is_lokr(group: dict[str, str]) -> bool:
    return (("lokr_w1" in group or ("lokr_w1_a" in group and "lokr_w1_b" in group))
            and ("lokr_w2" in group or ("lokr_w2_a" in group and "lokr_w2_b" in group)))


def read_lycoris(path: "Path", fh, module: str, group: dict[str, str], targets: list[tuple[str, int]],
                 in_features: int, finite: Callable[["torch.Tensor"], bool]
                 ) -> list[tuple[str, LohaLayer | LokrLayer]]:
    """One LoHa or LoKr group's layers for its targets (one module, or q/k/v of a fused qkv)."""
    get = fh.get_tensor
    alpha_t = get(group["alpha"]) if "alpha" in group else None
    tensors = {role: get(key) for role, key in group.items() if role in LOHA_ROLES + LOKR_ROLES}
    for tensor in list(tensors.values()) + ([alpha_t] if alpha_t is not None else []):
        if not tensor.is_floating_point() or not finite(tensor):
            raise ModelFilesError(msg("lora.not_finite", "{name} is damaged: layer {layer} holds values that are not "
                                      "finite numbers (NaN or infinity).", name=path.name, layer=module))
    if alpha_t is not None and alpha_t.numel() != 1:
        raise ModelFilesError(msg("lora.alpha_invalid", "{name} is damaged: the alpha of layer {layer} is not one "
                                  "number.", name=path.name, layer=module))
    alpha = float(alpha_t.float().reshape(-1)[0]) if alpha_t is not None else None
    out = sum(rows for _, rows in targets)
    if is_loha(group):
        return _loha(path, module, tensors, alpha, targets, out, in_features)
    return _lokr(path, module, tensors, alpha, targets, out, in_features)


def _mismatch(path: "Path", module: str, out: int, in_features: int, shapes: list["torch.Tensor"]) -> ModelFilesError:
    return ModelFilesError(msg("lora.lycoris_shape_mismatch", "{name} does not fit this transformer: layer {layer} is "
                               "{want_out}×{want_in}, the file's factors are {factors} (a file for another model size, "
                               "or a damaged file).", name=path.name, layer=module, want_out=out, want_in=in_features,
                               factors=", ".join("×".join(map(str, t.shape)) for t in shapes)))


def _loha(path, module, t, alpha, targets, out, in_features) -> list[tuple[str, LohaLayer | LokrLayer]]:
    w1a, w1b, w2a, w2b = (t[r] for r in LOHA_ROLES)
    if (any(m.ndim != 2 for m in (w1a, w1b, w2a, w2b)) or w1a.shape != (out, w1b.shape[0])
            or w2a.shape != (out, w2b.shape[0]) or w1b.shape[1] != in_features or w2b.shape[1] != in_features):
        raise _mismatch(path, module, out, in_features, [w1a, w1b, w2a, w2b])
    scale = alpha / w1b.shape[0] if alpha is not None else 1.0
    layers: list[tuple[str, LohaLayer | LokrLayer]] = []
    start = 0
    for target, rows in targets:
        stop = start + rows
        layers.append((target, LohaLayer(w1a[start:stop], w1b, w2a[start:stop], w2b, scale)))
        start = stop
    return layers


def _lokr(path, module, t, alpha, targets, out, in_features) -> list[tuple[str, LohaLayer | LokrLayer]]:
    dim = None
    if "lokr_w1" in t:
        w1 = t["lokr_w1"]
    else:
        w1 = _product(path, module, out, in_features, t["lokr_w1_a"], t["lokr_w1_b"])
        dim = t["lokr_w1_b"].shape[0]
    if "lokr_w2" in t:
        w2 = t["lokr_w2"]
    else:
        w2 = _product(path, module, out, in_features, t["lokr_w2_a"], t["lokr_w2_b"])
        dim = t["lokr_w2_b"].shape[0]
    if w1.ndim != 2 or w2.ndim != 2 or w1.shape[0] * w2.shape[0] != out or w1.shape[1] * w2.shape[1] != in_features:
        raise _mismatch(path, module, out, in_features, [w1, w2])
    scale = alpha / dim if alpha is not None and dim is not None else 1.0
    c = w2.shape[0]
    layers: list[tuple[str, LohaLayer | LokrLayer]] = []
    start = 0
    for target, rows in targets:
        stop = start + rows
        if len(targets) == 1:
            layers.append((target, LokrLayer(w1, w2, scale)))
        elif start % c == 0 and stop % c == 0:  # q/k/v fall on whole row blocks of w1
            layers.append((target, LokrLayer(w1[start // c:stop // c], w2, scale)))
        else:
            layers.append((target, LokrLayer(w1, w2, scale, (start, stop))))
        start = stop
    return layers


def _product(path, module, out, in_features, a: "torch.Tensor", b: "torch.Tensor") -> "torch.Tensor":
    """A decomposed factor multiplied out once at load, in float32 as ComfyUI does (it is small:
    about √out × √in)."""
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise _mismatch(path, module, out, in_features, [a, b])
    return a.float() @ b.float()
