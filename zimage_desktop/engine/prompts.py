"""Prompt encoding for Z-Image without padding, with an LRU cache.

The pipeline pads every prompt to 512 tokens and then throws the padding away. Qwen3's attention
is causal, so the hidden states of the real tokens do not depend on what follows them: encoding
just the real tokens gives the same embeddings (tests prove it against the pipeline's own
``encode_prompt``) at a fraction of the cost. Results are cached by (prompt, encoder id) so
re-generating a prompt skips the text encoder entirely.

The encoder computes in float32 on every device, as ComfyUI's does (``SDClipModel.forward`` passes
``dtype=torch.float32`` and the embeddings come out in float32; its ``manual_cast`` layers cast each
bf16 weight to the input's dtype for that one call; ``CLIP.__init__`` sets the compute dtype to
float32): the weights stay as held (bf16 — the plan's memory figures do not change), one layer's
weight is widened at a time. On a 36-layer encoder bf16 compute is the first place a picture
drifts from ComfyUI's. The prompt enhancer, which ComfyUI does not have, is not affected.
"""

from __future__ import annotations

from collections import OrderedDict
from contextlib import contextmanager
from typing import Any, Iterator

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from ..errors import BadInputError
from ..messages import msg
from .architectures import DEFAULT
from .placement import execution_device

MAX_TOKENS = 512
COMPUTE_DTYPE = torch.float32  # ComfyUI's, on the CPU and on GPUs alike


class _WeightsToInputDtype(TorchFunctionMode):
    """Inside: a linear layer whose weight is narrower than its input computes in the input's
    dtype, the weight cast for that call only (ComfyUI's ``cast_bias_weight``). Works under any
    offload hook, since it acts where the layer multiplies, not on the module."""

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is F.linear and len(args) >= 2 and args[0].dtype != args[1].dtype \
                and args[0].dtype == COMPUTE_DTYPE and args[1].is_floating_point():
            x, weight, *rest = args
            bias = rest[0] if rest else kwargs.pop("bias", None)
            return func(x, weight.to(x.dtype), None if bias is None else bias.to(x.dtype))
        return func(*args, **kwargs)


@contextmanager
def float32_compute(text_encoder: torch.nn.Module) -> Iterator[None]:
    """The encoder computes in float32 inside (its embeddings widened, its layers cast per call)."""
    lookup = getattr(text_encoder, "get_input_embeddings", None)
    embeddings = lookup() if callable(lookup) else None
    handle = embeddings.register_forward_hook(lambda _m, _i, out: out.to(COMPUTE_DTYPE)) \
        if isinstance(embeddings, torch.nn.Module) else None
    try:
        with _WeightsToInputDtype():
            yield
    finally:
        if handle is not None:
            handle.remove()


class PromptEncoder:
    def __init__(self, tokenizer, text_encoder, encoder_id: str, cache_size: int = 32,
                 hidden_layer: int = DEFAULT.text_hidden_layer) -> None:
        self.tokenizer = tokenizer
        self.hidden_layer = hidden_layer  # the model's conditioning layer (Architecture.text_hidden_layer)
        self.text_encoder = text_encoder
        self.encoder_id = encoder_id
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[str, str], torch.Tensor] = OrderedDict()
        # The loaded encoder's own limit when it reads fewer positions than Z-Image's 512.
        positions = getattr(getattr(text_encoder, "config", None), "max_position_embeddings", None)
        self.limit = min(MAX_TOKENS, positions) if isinstance(positions, int) and positions > 0 else MAX_TOKENS

    def chat_text(self, prompt: str) -> str:
        # Exactly what ZImagePipeline._encode_prompt feeds the tokenizer.
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True, enable_thinking=True
        )

    def token_count(self, prompt: str) -> int:
        return len(self.tokenizer(self.chat_text(prompt)).input_ids)

    def encode(self, prompt: str, device: torch.device | str | None = None) -> torch.Tensor:
        """Embeddings (tokens, hidden) of the second-to-last hidden layer, as the pipeline uses."""
        key = (prompt, self.encoder_id)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached if device is None else cached.to(device)
        ids = self.tokenizer(self.chat_text(prompt)).input_ids
        if len(ids) > self.limit:
            raise BadInputError(
                msg("prompts.prompt_tokens_long_z", "The prompt is {length} tokens long; Z-Image reads at most "
                    "{limit}. Shorten it.", length=len(ids), limit=self.limit)
            )
        if self.text_encoder is None:  # let go after a one-prompt run's encoding (loading.after_encode)
            raise RuntimeError("the text encoder was released; the engine reloads before a new prompt")
        run_device = device if device is not None else execution_device(self.text_encoder)
        input_ids = torch.tensor([ids], device=run_device)
        try:
            with torch.inference_mode(), float32_compute(self.text_encoder):
                out = self.text_encoder(
                    input_ids=input_ids,
                    attention_mask=torch.ones_like(input_ids, dtype=torch.bool),
                    output_hidden_states=True,
                )
        except IndexError:  # a text encoder that reads fewer positions than its config says
            raise BadInputError(msg("prompts.encoder_could_not_read", "The text encoder could not read this "
                                    "prompt of {length} tokens; shorten it.", length=len(ids))) from None
        embeds = out.hidden_states[self.hidden_layer][0].detach()
        self._cache[key] = embeds
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return embeds

    def clear(self) -> None:
        self._cache.clear()

    def release_encoder(self) -> None:
        """Let the encoder go; what is cached can still be read."""
        self.text_encoder = None

    @property
    def released(self) -> bool:
        return self.text_encoder is None
