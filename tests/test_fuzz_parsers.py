"""Property tests: whatever bytes or JSON a hostile file holds, the readers end in a result or a
BadInputError, quickly — never another exception (issue 13)."""

import json
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zimage_desktop.engine.tensor_index import read_gguf_index, read_safetensors_index
from zimage_desktop.errors import BadInputError
from zimage_desktop.models.catalog import Catalog, load_catalog, parse_catalog

# Each example must finish well inside this (seconds): a reader that loops or allocates on a
# hostile length shows up as a deadline error.
FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=30,
)


def _tmp_file(data: bytes, suffix: str) -> Path:
    fh = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)
    fh.write(data)
    fh.close()
    return Path(fh.name)


def _read(reader, data: bytes, suffix: str):
    path = _tmp_file(data, suffix)
    try:
        return reader(path)
    except BadInputError:
        return None
    finally:
        path.unlink()


# -- safetensors -------------------------------------------------------------------------------

tensor_entries = st.fixed_dictionaries({}, optional={
    "dtype": st.sampled_from(["F32", "BF16", "F16", "I8", "F8_E4M3", "X"]) | json_values,
    "shape": st.lists(st.integers(min_value=-3, max_value=2**40), max_size=4) | json_values,
    "data_offsets": st.lists(st.integers(min_value=-10, max_value=2**40), max_size=3) | json_values,
})


@FUZZ
@given(st.binary(max_size=512))
def test_safetensors_any_bytes(data):
    _read(read_safetensors_index, data, ".safetensors")


@FUZZ
@given(st.dictionaries(st.text(max_size=10), tensor_entries | json_values, max_size=6), st.binary(max_size=256),
       st.integers(min_value=-8, max_value=8))
def test_safetensors_structured_headers(header, body, length_skew):
    raw = json.dumps(header).encode()
    data = struct.pack("<Q", max(0, len(raw) + length_skew)) + raw + body
    result = _read(read_safetensors_index, data, ".safetensors")
    if result is not None:  # whatever is accepted is well-formed
        assert all(isinstance(d, int) and d >= 0 for shape in result.shapes.values() for d in shape)


# -- GGUF ----------------------------------------------------------------------------------------

def _gguf_prefix(version: int, tensors: int, kvs: int) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", version, tensors, kvs)


@FUZZ
@given(st.binary(max_size=512))
def test_gguf_any_bytes(data):
    _read(read_gguf_index, data, ".gguf")


@FUZZ
@given(st.sampled_from([1, 2, 3, 4, 2**31]), st.integers(min_value=0, max_value=2**64 - 1),
       st.integers(min_value=0, max_value=2**64 - 1), st.binary(max_size=512))
def test_gguf_hostile_counts(version, tensors, kvs, rest):
    _read(read_gguf_index, _gguf_prefix(version, tensors, kvs) + rest, ".gguf")


# -- PNG text chunks -----------------------------------------------------------------------------

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
    idat = _chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
    return b"\x89PNG\r\n\x1a\n" + ihdr + b"".join(_chunk(k, d) for k, d in chunks) + idat + _chunk(b"IEND", b"")


text_chunks = st.tuples(
    st.sampled_from([b"tEXt", b"iTXt", b"zTXt"]),
    st.builds(lambda key, body: key + b"\0" + body,
              st.sampled_from([b"zimage", b"parameters", b"prompt", b"workflow", b"x"]), st.binary(max_size=300)),
)


@FUZZ
@given(st.lists(text_chunks, max_size=4))
def test_png_metadata_any_text_chunks(chunks):
    from zimage_desktop.history.metadata import read_png_metadata

    _read(read_png_metadata, _png(chunks), ".png")


@FUZZ
@given(json_values, st.sampled_from([b"zimage", b"parameters"]))
def test_png_metadata_any_json_payload(value, key):
    from zimage_desktop.history.metadata import read_png_metadata

    body = json.dumps(value).encode()
    _read(read_png_metadata, _png([(b"iTXt", key + b"\0\0\0\0\0" + body)]), ".png")


@FUZZ
@given(st.binary(max_size=400))
def test_png_metadata_any_bytes(data):
    from zimage_desktop.history.metadata import read_png_metadata

    _read(read_png_metadata, b"\x89PNG\r\n\x1a\n" + data, ".png")


# -- catalog -------------------------------------------------------------------------------------

file_entries = st.fixed_dictionaries({}, optional={
    "dest": st.sampled_from(["vae/a.safetensors", "../x", "/etc/passwd", "diffusion_models/b.gguf", ""]) | json_values,
    "size": st.integers(min_value=-5, max_value=2**40) | json_values,
    "sha256": st.just("0" * 64) | json_values,
    "sources": st.dictionaries(st.sampled_from(["hf", "modelscope", "x"]),
                               st.fixed_dictionaries({}, optional={"repo": json_values, "path": json_values,
                                                                   "revision": json_values}) | json_values,
                               max_size=2) | json_values,
})
catalogs = st.fixed_dictionaries({"schema": st.just(1) | json_values}, optional={
    "components": st.dictionaries(st.text(max_size=8), st.fixed_dictionaries(
        {}, optional={"files": st.lists(file_entries | json_values, max_size=3) | json_values,
                      "title": json_values, "optional": json_values}) | json_values, max_size=3) | json_values,
    "sets": st.dictionaries(st.text(max_size=8), st.lists(st.text(max_size=8), max_size=3) | json_values,
                            max_size=3) | json_values,
    "name": json_values,
})


@FUZZ
@given(catalogs)
def test_catalog_any_structure(data):
    try:
        assert isinstance(parse_catalog(data, "fuzz"), Catalog)
    except BadInputError:
        pass


@FUZZ
@given(st.binary(max_size=300))
def test_catalog_file_any_bytes(data):
    _read(load_catalog, data, ".json")


def test_the_properties_can_fail():
    """The harness itself reports a reader that raises something else."""
    with pytest.raises(ZeroDivisionError):
        _read(lambda path: 1 / 0, b"", ".bin")


# -- A1111 text and ComfyUI graphs (the recall readers of issue 12) ------------------------------------

a1111_like = st.lists(
    st.sampled_from(["Steps", "Seed", "Size", "Sampler", "CFG scale", "Negative prompt", "Model"]).map(lambda k: k + ": ")
    | st.text(alphabet=st.sampled_from('ab,: "\\\n12x'), max_size=12),
    max_size=30,
).map("".join)

node = st.fixed_dictionaries({"class_type": st.sampled_from(
    ["KSampler", "SamplerCustomAdvanced", "RandomNoise", "BasicScheduler", "CLIPTextEncode", "SaveImage",
     "EmptySD3LatentImage", "CFGGuider", "PrimitiveNode", "X"]) | json_values},
    optional={"inputs": st.dictionaries(
        st.sampled_from(["seed", "noise_seed", "steps", "positive", "negative", "text", "images", "samples",
                         "latent_image", "width", "height", "guider", "noise", "sigmas", "conditioning"]),
        # links as ComfyUI writes them ([node id, output index]), to missing nodes and into cycles
        st.tuples(st.sampled_from(["1", "2", "3", "9"]), st.integers(-1, 2)).map(list) | json_values,
        max_size=6) | json_values})


@FUZZ
@given(a1111_like)
def test_a1111_text_of_any_shape(text):
    from zimage_desktop.history.metadata import parse_text_chunks

    try:
        parse_text_chunks({"parameters": "a prompt\n" + text})
    except BadInputError:
        pass


@FUZZ
@given(st.dictionaries(st.sampled_from(["1", "2", "3", "9", "x"]), node, max_size=6) | json_values)
def test_comfyui_graphs_of_any_shape(graph):
    """Links to missing nodes, cycles, wrong types: the graph walk ends with values or notes."""
    from zimage_desktop.history.metadata import parse_text_chunks

    text = json.dumps(graph)
    for key in ("prompt", "workflow"):
        try:
            parse_text_chunks({key: text})
        except BadInputError:
            pass
