"""The prompt enhancer: Z-Image's text encoder run as Qwen3's causal LM (tiny random weights)."""

from __future__ import annotations

import copy

import pytest
import torch

from zimage_desktop.devkit.tiny import build_tiny_pipeline, build_tiny_models
from zimage_desktop.engine.enhance import CausalLM, PromptEnhancer, Sampling, TextStream, decode
from zimage_desktop.errors import BadInputError, ModelFilesError


@pytest.fixture(scope="module")
def tiny():
    pipe = build_tiny_pipeline(seed=3)
    return pipe.tokenizer, pipe.text_encoder


def reference_lm(encoder: torch.nn.Module):
    """transformers' own Qwen3ForCausalLM with the encoder's tensors and lm_head = embeddings."""
    from transformers import Qwen3ForCausalLM

    reference = Qwen3ForCausalLM(encoder.config).eval()
    state = {f"model.{k}": v.float() for k, v in encoder.state_dict().items()}
    state["lm_head.weight"] = encoder.state_dict()["embed_tokens.weight"].float()
    reference.load_state_dict(state, strict=True)
    return reference


def ids(tokenizer, text="a red fox in the snow"):
    return tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids


def test_logits_match_transformers_causal_lm(tiny):
    tokenizer, encoder = tiny
    input_ids = ids(tokenizer)
    with torch.inference_mode():
        ours = CausalLM(encoder)(input_ids, last_only=False)
        theirs = reference_lm(encoder)(input_ids).logits
    assert ours.shape == theirs.shape == (1, input_ids.shape[1], encoder.config.vocab_size)
    torch.testing.assert_close(ours, theirs.float(), rtol=1e-5, atol=1e-5)


def test_kv_cache_decoding_matches_the_full_forward(tiny):
    from transformers import DynamicCache

    tokenizer, encoder = tiny
    lm = CausalLM(encoder)
    input_ids = ids(tokenizer, "lighthouse at dusk")
    cache = DynamicCache(config=encoder.config)
    with torch.inference_mode():
        full = lm(input_ids, last_only=False)
        step = [lm(input_ids[:, :4], cache=cache, last_only=False)]
        for i in range(4, input_ids.shape[1]):
            step.append(lm(input_ids[:, i:i + 1], cache=cache))
    torch.testing.assert_close(torch.cat(step, dim=1), full, rtol=1e-4, atol=1e-5)


def test_greedy_decoding_equals_transformers_generate(tiny):
    tokenizer, encoder = tiny
    prompt = ids(tokenizer, "a cat")
    done = decode(CausalLM(encoder), prompt[0].tolist(), set(), Sampling(max_new_tokens=12, temperature=0.0))
    with torch.inference_mode():
        generated = reference_lm(encoder).generate(prompt, max_new_tokens=12, min_new_tokens=12, do_sample=False,
                                                   eos_token_id=None, pad_token_id=0)
    assert list(done.token_ids) == generated[0, prompt.shape[1]:].tolist()
    assert done.stop == "limit" and len(done.token_ids) == 12


def test_safetensors_encoder_from_a_models_folder(tmp_path):
    """The encoder as the app loads it (bf16 file with ComfyUI's "model." keys) works as an LM."""
    from zimage_desktop.engine.loader import load_text_encoder
    from zimage_desktop.engine.model_files import resolve_model_set

    models = build_tiny_models(tmp_path)
    encoder = load_text_encoder(resolve_model_set(models.comfy), torch.float32)
    input_ids = torch.tensor([[5, 17, 99, 3, 250]])
    with torch.inference_mode():
        ours = CausalLM(encoder)(input_ids, last_only=False)
        theirs = reference_lm(encoder)(input_ids).logits
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def quantize_linears_q8(encoder: torch.nn.Module) -> tuple[torch.nn.Module, torch.nn.Module]:
    """(the encoder with every decoder Linear as diffusers' GGUFLinear holding Q8_0 blocks, and a
    plain copy holding the same dequantized values) — the shape of a GGUF encoder kept quantized."""
    import gguf
    from diffusers.quantizers.gguf.utils import GGUFParameter, _replace_with_gguf_linear, dequantize_gguf_tensor

    qtype = gguf.GGMLQuantizationType.Q8_0
    quantized, plain = copy.deepcopy(encoder), copy.deepcopy(encoder)
    state = {}
    for name, value in encoder.state_dict().items():
        if name.startswith("layers.") and name.endswith("proj.weight"):
            blocks = torch.from_numpy(gguf.quants.quantize(value.float().numpy(), qtype))
            state[name] = GGUFParameter(blocks, quant_type=qtype)
        else:
            state[name] = value
    _replace_with_gguf_linear(quantized, torch.float32, state)
    for name, value in state.items():  # as diffusers' loader does: the blocks replace the parameter
        module_name, _, attr = name.rpartition(".")
        module = quantized.get_submodule(module_name)
        module._parameters[attr] = value if isinstance(value, GGUFParameter) else torch.nn.Parameter(
            value.clone(), requires_grad=False)
    plain.load_state_dict({k: dequantize_gguf_tensor(v).float() if hasattr(v, "quant_type") else v
                           for k, v in state.items()}, strict=True)
    return quantized.eval(), plain.eval()


def test_gguf_linear_encoder_matches_its_dequantized_reference(tiny):
    from diffusers.quantizers.gguf.utils import GGUFLinear

    tokenizer, encoder = tiny
    quantized, plain = quantize_linears_q8(encoder)
    assert isinstance(quantized.layers[0].self_attn.q_proj, GGUFLinear)
    input_ids = ids(tokenizer, "poster")
    with torch.inference_mode():
        ours = CausalLM(quantized)(input_ids, last_only=False)
        theirs = reference_lm(plain)(input_ids).logits
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4)
    enhancer = PromptEnhancer(tokenizer, quantized)
    result = enhancer.enhance("a boat", Sampling(max_new_tokens=4, seed=1))
    assert result.tokens <= 4


def test_tied_head_dequantizes_a_gguf_embedding(tiny):
    import gguf
    from diffusers.quantizers.gguf.utils import GGUFParameter, dequantize_gguf_tensor

    from zimage_desktop.engine.enhance import head_weight

    _, encoder = tiny
    embedding = copy.deepcopy(encoder.embed_tokens)
    qtype = gguf.GGMLQuantizationType.Q8_0
    blocks = torch.from_numpy(gguf.quants.quantize(embedding.weight.detach().numpy(), qtype))
    embedding.weight = GGUFParameter(blocks, quant_type=qtype)
    weight = head_weight(embedding, torch.float32)
    assert weight.shape == encoder.embed_tokens.weight.shape
    class QuantizedTable(torch.nn.Module):  # like the GGUF encoder's: lookups dequantize, the table stays GGUF
        def __init__(self, weight) -> None:
            super().__init__()
            self.weight = weight

        def forward(self, input_ids):
            return dequantize_gguf_tensor(self.weight).float()[input_ids]

    tied = copy.deepcopy(encoder)
    tied.embed_tokens = QuantizedTable(embedding.weight)  # the head converts the table once per LM
    lm = CausalLM(tied)
    lm(torch.tensor([[1, 2]]), cache=None)
    kept = lm._head
    lm(torch.tensor([[3]]), cache=None)
    assert kept is not None and lm._head is kept
    torch.testing.assert_close(kept, weight)
    torch.testing.assert_close(weight, dequantize_gguf_tensor(embedding.weight).float())
    torch.testing.assert_close(weight, encoder.embed_tokens.weight.detach(), atol=0.02, rtol=0.05)


def test_an_encoder_missing_layers_is_refused(tiny):
    _, encoder = tiny
    cut = copy.deepcopy(encoder)
    cut.layers = cut.layers[:-1]
    with pytest.raises(ModelFilesError, match="layers"):
        CausalLM(cut)
    with pytest.raises(ModelFilesError, match="layers"):
        CausalLM(encoder, expected_layers=encoder.config.num_hidden_layers + 1)
    from transformers.models.qwen3.modeling_qwen3 import Qwen3DecoderLayer

    class WeightlessStandIn(Qwen3DecoderLayer):  # the GGUF encoder's stand-in for the unused last layer
        def __init__(self) -> None:
            torch.nn.Module.__init__(self)

        def forward(self, hidden_states, *args, **kwargs):
            return hidden_states

    stand_in = copy.deepcopy(encoder)
    stand_in.layers[-1] = WeightlessStandIn()
    with pytest.raises(ModelFilesError, match="1 of its 2 layers"):
        CausalLM(stand_in)


def test_same_seed_same_text_other_seed_other_text(tiny):
    tokenizer, encoder = tiny
    enhancer = PromptEnhancer(tokenizer, encoder)
    a = enhancer.enhance("a red fox", Sampling(max_new_tokens=16, temperature=1.0, top_p=1.0, top_k=0, seed=7))
    b = enhancer.enhance("a red fox", Sampling(max_new_tokens=16, temperature=1.0, top_p=1.0, top_k=0, seed=7))
    c = enhancer.enhance("a red fox", Sampling(max_new_tokens=16, temperature=1.0, top_p=1.0, top_k=0, seed=8))
    assert a.raw == b.raw and a.tokens == b.tokens
    assert a.raw != c.raw


def test_streamed_pieces_add_up_to_the_answer(tiny):
    tokenizer, encoder = tiny
    pieces: list[str] = []
    result = PromptEnhancer(tokenizer, encoder).enhance("森林里的小屋", Sampling(max_new_tokens=24, seed=2),
                                                        on_text=pieces.append)
    assert len(pieces) > 1
    assert "".join(pieces) == result.raw
    assert result.language == "zh"


def test_stream_holds_back_half_characters():
    from zimage_desktop.devkit.tiny import make_tokenizer

    tokenizer = make_tokenizer()
    pieces: list[str] = []
    stream = TextStream(tokenizer, pieces.append)
    ids = tokenizer("龘a", add_special_tokens=False).input_ids
    assert len(ids) > 2  # a rare character is split into byte tokens
    for token in ids:
        stream(token)
    assert pieces == ["龘", "a"]


def test_cancel_between_tokens(tiny):
    tokenizer, encoder = tiny
    seen: list[int] = []
    done = decode(CausalLM(encoder), ids(tokenizer)[0].tolist(), set(), Sampling(max_new_tokens=50, seed=0),
                  on_token=seen.append, is_cancelled=lambda: len(seen) >= 3)
    assert done.stop == "cancelled"
    assert list(done.token_ids) == seen and len(seen) == 3


def test_token_limit(tiny):
    tokenizer, encoder = tiny
    done = decode(CausalLM(encoder), ids(tokenizer)[0].tolist(), set(), Sampling(max_new_tokens=5, seed=0))
    assert done.stop == "limit" and len(done.token_ids) == 5
    assert done.first_token_s > 0 and done.seconds >= done.first_token_s


def test_stops_on_the_end_token(tiny):
    tokenizer, encoder = tiny
    muted = copy.deepcopy(encoder)
    with torch.no_grad():  # all-zero final hidden states: every logit 0, argmax is token 0 (<|endoftext|>)
        muted.norm.weight.zero_()
    enhancer = PromptEnhancer(tokenizer, muted)
    assert tokenizer.convert_tokens_to_ids("<|im_end|>") in enhancer.stop_ids
    assert 0 in enhancer.stop_ids
    result = enhancer.enhance("a cat", Sampling(max_new_tokens=20, temperature=0.0))
    assert result.stop == "end" and result.tokens == 0


def test_quoted_text_survives_any_answer(tiny):
    tokenizer, encoder = tiny
    result = PromptEnhancer(tokenizer, encoder).enhance('a shop sign that says "OPEN 24h"',
                                                        Sampling(max_new_tokens=8, seed=4))
    assert '"OPEN 24h"' in result.text
    assert result.restored_quotes == ("OPEN 24h",)  # a random model never writes it itself


def test_bad_ideas_are_refused(tiny):
    tokenizer, encoder = tiny
    enhancer = PromptEnhancer(tokenizer, encoder)
    with pytest.raises(BadInputError):
        enhancer.enhance("   ")
    with pytest.raises(BadInputError):
        enhancer.enhance("x" * 5000)
    with pytest.raises(BadInputError):
        Sampling(max_new_tokens=0)


def test_sampling_keeps_to_top_k_and_top_p():
    from zimage_desktop.engine.enhance import next_token

    logits = torch.full((1000,), -10.0)
    logits[[3, 7, 11]] = torch.tensor([5.0, 4.9, 4.8])
    generator = torch.Generator().manual_seed(0)
    drawn = {next_token(logits, Sampling(top_k=2, top_p=1.0, temperature=1.0), generator) for _ in range(200)}
    assert drawn == {3, 7}
    drawn = {next_token(logits, Sampling(top_k=0, top_p=0.3, temperature=1.0), generator) for _ in range(50)}
    assert drawn == {3}  # the first token alone holds more than 30 % of the mass
    assert next_token(logits, Sampling(temperature=0.0), generator) == 3
