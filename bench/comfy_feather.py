"""How far the inpaint graph's feather (core nodes: GrowMask → MaskToImage → ImageBlur →
ImageToMask → MaskComposite add, multiply) is from ours (``editing.feathered_mask``), in levels of
255 of the composite weight, for several mask blurs.

The ComfyUI side is the nodes' arithmetic written out from ComfyUI 0.12.1's source
(``comfy_extras/nodes_mask.py`` GrowMask with square corners = square dilation;
``nodes_post_processing.py`` ImageBlur: ``gaussian_kernel`` on ``linspace(-1, 1)``, so its sigma is
in units of the radius, reflect padding; MaskComposite clamps to 0..1), with the widget values our
graph writes. The real-server comparison of whole pictures is tests/test_comfy_edit_remake.py.
Exit 1 when the weights differ by more than ``--limit`` levels at blur 8 or anything is non-zero
beyond the grown mask.

Imports: torch, numpy, PIL, the project. Usage: python bench/comfy_feather.py [--limit 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

from zimage_desktop.engine.editing import _dilate, feathered_mask  # noqa: E402
from zimage_desktop.engine.request import GenerationRequest  # noqa: E402
from zimage_desktop.history.comfy_edit_graph import latent_nodes  # noqa: E402


def comfy_blur(mask: np.ndarray, radius: int, sigma: float) -> np.ndarray:
    axis = torch.linspace(-1, 1, 2 * radius + 1)
    x, y = torch.meshgrid(axis, axis, indexing="ij")
    kernel = torch.exp(-(x * x + y * y) / (2.0 * sigma * sigma))
    kernel = (kernel / kernel.sum())[None, None]
    padded = F.pad(torch.from_numpy(mask)[None, None], (radius,) * 4, "reflect")
    return F.conv2d(padded, kernel, padding=radius)[0, 0, radius:-radius, radius:-radius].numpy()


def graph_feather(hard: np.ndarray, blur: int) -> np.ndarray:
    request = GenerationRequest(prompt="p", width=256, height=256, mode="inpaint", source="s.png", mask="m.png",
                                mask_blur=blur)
    nodes = {node_id: values for node_id, _, values, _, _ in latent_nodes(request)}
    radius, sigma = nodes[53]
    hard8 = (hard * 255).astype(np.uint8)
    grown_half = _dilate(hard8, nodes[51][0]).astype(np.float32) / 255
    grown = (_dilate(hard8, nodes[50][0]) > 0).astype(np.float32)
    return np.clip(comfy_blur(grown_half, radius, sigma) + hard, 0, 1) * grown


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=float, default=8.0)
    args = parser.parse_args()
    hard = np.zeros((256, 256), np.float32)
    hard[83:171, 77:181] = 1
    failed = False
    print("blur  max|Δ| (of 255)  mean|Δ| in the band  non-zero beyond the grown mask")
    for blur in (4, 8, 16, 32, 64):
        ours = np.asarray(feathered_mask(Image.fromarray((hard * 255).astype(np.uint8)), blur), np.float32) / 255
        theirs = graph_feather(hard, blur)
        diff = np.abs(ours - theirs) * 255
        band = (ours > 0) & (ours < 1)
        beyond = int((theirs[_dilate((hard * 255).astype(np.uint8), blur) == 0] > 0).sum())
        print(f"{blur:4d}  {diff.max():15.1f}  {diff[band].mean():19.2f}  {beyond}")
        failed |= beyond > 0 or (blur == 8 and diff.max() > args.limit)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
