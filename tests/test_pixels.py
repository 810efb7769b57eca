"""Decoded pictures become 8 bits as ComfyUI's SaveImage makes them (truncation), from float32."""

import numpy as np
import torch

from zimage_desktop.engine.pixels import to_8bit, unit_pixels


def test_eight_bits_truncate_like_comfyuis_save_image():
    values = torch.tensor([0.0, 0.5 / 255, 0.999 / 255, 1.0 / 255, 127.6 / 255, 254.99 / 255, 1.0])
    pixels = values.view(1, 1, 1, -1).expand(1, 3, 1, -1)
    got = np.asarray(to_8bit(pixels))[0, :, 0]
    # truncation: 127.6 stays 127 (rounding would give 128), 254.99 stays 254
    assert got.tolist() == np.clip(255. * values.numpy(), 0, 255).astype(np.uint8).tolist()
    assert got.tolist()[4:6] == [127, 254]


def test_the_unit_map_is_done_in_float32_not_the_vae_dtype():
    decoded = torch.linspace(-1, 1, 4096).to(torch.bfloat16).view(1, 1, 64, 64).expand(1, 3, 64, 64)
    ours = np.asarray(to_8bit(unit_pixels(decoded)))
    reference = np.clip(255. * torch.clamp((decoded.float() + 1.0) / 2.0, 0, 1)[0].permute(1, 2, 0).numpy(),
                        0, 255).astype(np.uint8)
    assert np.array_equal(ours, reference)
    in_bf16 = (decoded * 0.5 + 0.5).clamp(0, 1)  # what diffusers' postprocess does in the VAE's dtype
    assert not torch.equal(in_bf16.float(), unit_pixels(decoded))


def test_out_of_range_values_are_clipped():
    pixels = torch.tensor([-0.5, 1.5]).view(1, 1, 1, 2).expand(1, 3, 1, 2)
    assert np.asarray(to_8bit(pixels))[0, :, 0].tolist() == [0, 255]
