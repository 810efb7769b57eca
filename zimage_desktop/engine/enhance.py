"""The offline prompt enhancer: Z-Image's own text encoder (Qwen3-4B) run as a chat model.

The encoder is a complete ``Qwen3Model``; Qwen3-4B's output head is tied to its token embeddings,
so the causal LM is that model plus a head that reuses ``embed_tokens.weight`` — no extra file,
no second copy of the weights. The head works whatever form the encoder is stored in: plain or
FP8 (weights cast to the compute dtype per call, as layerwise casting does) or GGUF (a
``GGUFParameter`` is dequantized per call), and the decoder layers are the encoder's own modules,
so GGUF/FP8 Linear layers and the engine's placement hooks (a "swap" encoder evicts the
transformer from the GPU while it runs) apply unchanged.

Decoding is a plain loop over transformers' ``DynamicCache``: one prefill, then one token at a
time, sampled on the CPU in float32 from a seeded generator (the same seed gives the same text on
any device), stopping on the chat end token, at the token limit or when ``is_cancelled()`` turns
true between tokens. Text is streamed to a callback as it becomes valid UTF-8.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F

from ..errors import BadInputError, ModelFilesError, UserFacingError
from ..messages import msg
from .enhance_prompts import MAX_IDEA_CHARS, chat_parts, check_idea, language_of, restore_quotes
from .placement import execution_device

TextCallback = Callable[[str], None]
CancelCheck = Callable[[], bool]

STOP_TOKENS = ("<|im_end|>", "<|endoftext|>")


def head_weight(embedding: Any, dtype: torch.dtype) -> torch.Tensor:
    """The tied head's weight in ``dtype``: the embedding matrix, dequantized or cast if stored
    otherwise (GGUF blocks, FP8 under layerwise casting)."""
    weight: torch.Tensor = embedding.weight
    if getattr(weight, "quant_type", None) is not None:  # diffusers' GGUFParameter
        from diffusers.quantizers.gguf.utils import dequantize_gguf_tensor

        weight = dequantize_gguf_tensor(weight)
    return weight if weight.dtype == dtype else weight.to(dtype)


class CausalLM(torch.nn.Module):
    """A Qwen3 causal LM made of an encoder's ``Qwen3Model`` and a head tied to its embeddings.

    Needs every decoder layer: Z-Image reads ``hidden_states[-2]``, so an encoder loaded for
    Z-Image alone may skip the last layer; such a model is refused here."""

    def __init__(self, model: Any, expected_layers: int | None = None) -> None:
        super().__init__()
        config = model.config
        # An encoder loaded for Z-Image alone could leave the last layer out, or keep a weightless
        # stand-in for it (hidden_states[-2] does not need it); ours load every layer.
        layers = sum(1 for layer in model.layers if next(layer.parameters(), None) is not None)
        if layers < max(config.num_hidden_layers, expected_layers or 0):
            raise ModelFilesError(
                msg("enhance.text_encoder_was_loaded", "The text encoder was loaded with {layers} of its {max} layers; the "
                    "prompt enhancer needs all of them.",
                    layers=layers, max=max(config.num_hidden_layers, expected_layers or 0))
            )
        if not getattr(config, "tie_word_embeddings", True):
            raise ModelFilesError(msg("enhance.text_encoder_own_output", "This text encoder has its own output head, which "
                                      "is not loaded; the prompt enhancer needs a Qwen3 model with tied embeddings."))
        self.model: Any = model  # a transformers Qwen3Model, whatever its Linear layers are
        self._head: torch.Tensor | None = None  # a dequantized/cast head, kept while this LM lives

    @property
    def device(self) -> torch.device:
        return execution_device(self.model)

    def forward(self, input_ids: torch.Tensor, cache=None, last_only: bool = True) -> torch.Tensor:
        """Float32 logits (batch, positions, vocab); only the last position with ``last_only``."""
        out = self.model(input_ids=input_ids, use_cache=cache is not None, **{cache_keyword(self.model): cache})
        hidden = out.last_hidden_state
        if last_only:
            hidden = hidden[:, -1:]
        weight = self._head
        if weight is None or weight.dtype != hidden.dtype or weight.device != hidden.device:
            stored = self.model.embed_tokens.weight
            weight = head_weight(self.model.embed_tokens, hidden.dtype)
            # A GGUF or FP8 table would otherwise be converted again for every token (389M values);
            # the copy (0.78 GB in bf16) lives as long as this LM, i.e. one enhancement.
            self._head = weight if weight is not stored else None
        return F.linear(hidden, weight).float()


def cache_keyword(model: torch.nn.Module) -> str:
    """The name under which this transformers version's decoder takes its KV cache: ``cache``
    (transformers 5) or ``past_key_values`` (4.x, where an unknown ``cache=`` is silently
    swallowed by ``**kwargs`` and every token would recompute the whole prompt)."""
    import inspect

    params = inspect.signature(model.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


@dataclass(frozen=True)
class Sampling:
    """Decoding settings. ``temperature`` 0 is greedy; the defaults are Qwen3's recommendation for
    answers without thinking, which also keeps greedy decoding's repetition loops away."""

    # ~225 English words or ~300 Chinese characters: room for the 60-180 words asked for, and the
    # answer still fits the 512 tokens Z-Image reads.
    max_new_tokens: int = 300
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.max_new_tokens <= 4096:
            raise BadInputError(msg("enhance.token_limit_must_between", "The token limit must be between 1 and 4096."))
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**64:
            raise BadInputError(msg("enhance.seed_must_whole_number", "The seed must be a whole number between 0 and 2^64 - "
                                    "1."))
        if not 0.0 <= self.temperature <= 2.0:
            raise BadInputError(msg("enhance.temperature_must_between", "The temperature must be between 0 and 2."))


def next_token(logits: torch.Tensor, sampling: Sampling, generator: torch.Generator) -> int:
    """One token from float32 CPU logits (vocab,). With top-k the work after ``topk`` is on k
    candidates only: softmax, sort and draw over the whole 151,936-token vocabulary cost more
    than a 4B model's decoder step on a CPU."""
    if not bool(torch.isfinite(logits).all()):
        raise UserFacingError(msg("enhance.not_finite", "The text encoder computed invalid numbers (NaN or infinity); its "
                                  "file may be damaged — verify it or download it again."))
    if sampling.temperature <= 0.0:
        return int(torch.argmax(logits))
    if 0 < sampling.top_k < logits.numel():
        values, indices = torch.topk(logits, sampling.top_k)  # sorted, largest first
    else:
        values, indices = torch.sort(logits, descending=True)
    probs = torch.softmax(values / sampling.temperature, dim=-1)
    if 0.0 < sampling.top_p < 1.0:
        # Keep the smallest set whose mass reaches top_p (the first token always stays).
        keep = torch.cumsum(probs, 0) - probs <= sampling.top_p
        probs = probs[keep] / probs[keep].sum()
    return int(indices[torch.multinomial(probs, 1, generator=generator)])


@dataclass(frozen=True)
class Decoded:
    token_ids: tuple[int, ...]
    stop: str  # "end" (chat end token), "limit" (max_new_tokens) or "cancelled"
    first_token_s: float  # prompt processing plus the first token
    seconds: float

    @property
    def tokens_per_s(self) -> float:
        """Decoding speed after the first token."""
        rest = self.seconds - self.first_token_s
        return (len(self.token_ids) - 1) / rest if len(self.token_ids) > 1 and rest > 0 else 0.0


def decode(lm: CausalLM, prompt_ids: list[int], stop_ids: set[int], sampling: Sampling,
           on_token: Callable[[int], None] | None = None, is_cancelled: CancelCheck | None = None) -> Decoded:
    """Generate after ``prompt_ids`` with a KV cache; the stop token is not part of the result."""
    from transformers import DynamicCache

    cancelled = is_cancelled or (lambda: False)
    generator = torch.Generator("cpu").manual_seed(sampling.seed)
    try:
        cache = DynamicCache(config=lm.model.config)
    except TypeError:  # transformers before the config argument: the cache learns its layers as it fills
        cache = DynamicCache()
    started = time.perf_counter()
    first = 0.0
    out: list[int] = []
    stop = "limit"
    step_input = torch.tensor([prompt_ids], device=lm.device)
    with torch.inference_mode():
        for _ in range(sampling.max_new_tokens):
            if cancelled():
                stop = "cancelled"
                break
            logits = lm(step_input, cache=cache)[0, -1].cpu()
            token = next_token(logits, sampling, generator)
            if not first:
                first = time.perf_counter() - started
            if token in stop_ids:
                stop = "end"
                break
            out.append(token)
            if on_token is not None:
                on_token(token)
            step_input = torch.tensor([[token]], device=step_input.device)
    return Decoded(tuple(out), stop, first, time.perf_counter() - started)


class TextStream:
    """Turns token ids into text pieces: decodes everything so far and passes on what is new,
    holding back a piece that ends in half a UTF-8 character (byte-level BPE splits them)."""

    def __init__(self, tokenizer, on_text: TextCallback) -> None:
        self.tokenizer = tokenizer
        self.on_text = on_text
        self.ids: list[int] = []
        self.sent = 0

    def __call__(self, token: int) -> None:
        self.ids.append(token)
        text = self.tokenizer.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return
        self._send(text)

    def flush(self) -> None:
        """Pass on what is left at the end, broken characters included."""
        self._send(self.tokenizer.decode(self.ids, skip_special_tokens=True))

    def _send(self, text: str) -> None:
        if len(text) > self.sent:
            self.on_text(text[self.sent:])
            self.sent = len(text)


@dataclass(frozen=True)
class Enhanced:
    original: str
    text: str  # the rewrite, cleaned, with every quoted text of the original present
    raw: str  # what the model wrote
    language: str
    stop: str
    tokens: int
    first_token_s: float
    seconds: float
    restored_quotes: tuple[str, ...] = ()

    @property
    def tokens_per_s(self) -> float:
        rest = self.seconds - self.first_token_s
        return (self.tokens - 1) / rest if self.tokens > 1 and rest > 0 else 0.0


class PromptEnhancer:
    """Rewrites short ideas into Z-Image prompts with the loaded text encoder; not thread-safe."""

    def __init__(self, tokenizer, text_encoder: torch.nn.Module) -> None:
        self.tokenizer = tokenizer
        self.lm = CausalLM(text_encoder)
        vocab = tokenizer.get_vocab()
        self.stop_ids = {vocab[t] for t in STOP_TOKENS if t in vocab}
        if tokenizer.eos_token_id is not None:
            self.stop_ids.add(tokenizer.eos_token_id)

    def prompt_ids(self, idea: str, language: str | None = None) -> list[int]:
        before, user, after = chat_parts(self.tokenizer, idea, language)
        encode = self.tokenizer
        ids = encode(before, add_special_tokens=False).input_ids
        ids += encode(user, add_special_tokens=False, split_special_tokens=True).input_ids  # typed tokens stay text
        return ids + encode(after, add_special_tokens=False).input_ids

    def enhance(self, idea: str, sampling: Sampling | None = None, on_text: TextCallback | None = None,
                is_cancelled: CancelCheck | None = None, language: str | None = None,
                on_tokens: Callable[[int], None] | None = None) -> Enhanced:
        """``on_tokens`` hears how many tokens are written so far (progress against max_new_tokens);
        ``on_text`` the text they add (a token that ends in half a character adds none yet)."""
        idea = check_idea(idea, MAX_IDEA_CHARS)
        sampling = sampling or Sampling()
        lang = language or language_of(idea)
        stream = TextStream(self.tokenizer, on_text) if on_text is not None else None
        written = 0

        def on_token(token: int) -> None:
            nonlocal written
            written += 1
            if stream is not None:
                stream(token)
            if on_tokens is not None:
                on_tokens(written)

        done = decode(self.lm, self.prompt_ids(idea, lang), self.stop_ids, sampling, on_token, is_cancelled)
        if stream is not None:
            stream.flush()
        raw = self.tokenizer.decode(list(done.token_ids), skip_special_tokens=True)
        checked = restore_quotes(idea, raw, lang)
        return Enhanced(idea, checked.text, raw, lang, done.stop, len(done.token_ids), done.first_token_s,
                        done.seconds, checked.restored)
