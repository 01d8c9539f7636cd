"""CTranslate2 Whisper → openai-whisper checkpoint, converted once and verified against CT2.

No package ships openai-whisper ``.pt`` files, but the CT2 models in the registry hold the same weights
(float16) under other names. :func:`whisper_checkpoint` converts one into ``settings.models_dir`` on
first use, proves the result computes what CT2 computes, and returns a path that plain
``whisper.load_model(path)`` accepts. The CT2 binary layout and name map are in ``../shared/MODELS.md``.
"""

from __future__ import annotations

import json
import os
import re
import struct
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from shopagent.registry import resolve_model
from shopagent.settings import Settings
from shopagent.speech.errors import ConversionError

# Bump when the checkpoint layout or the verification changes: cached conversions are redone.
FORMAT_VERSION = 1

# CT2 DataType enum → numpy dtype (bfloat16/float8 are not used by any shipped Whisper model).
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}

_lock = threading.Lock()


@dataclass(frozen=True)
class Verification:
    """How closely the converted model reproduces CT2 (float32) on a fixed input."""

    encoder_max_abs_diff: float
    logits_max_abs_diff: float
    tokens: list[int]
    tokens_match: bool


def read_ct2(path: Path) -> dict[str, np.ndarray]:
    """Every variable of a CT2 ``model.bin`` (version 6), aliases resolved."""
    data = path.read_bytes()
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values

    def text() -> str:
        nonlocal pos
        (length,) = take("<H")
        value = data[pos : pos + length - 1].decode()
        pos += length
        return value

    try:
        (version,) = take("<I")
        if version != 6:
            raise ConversionError(f"{path}: CT2 model format version {version} is not supported (only 6)")
        spec, (_revision,), (count,) = text(), take("<I"), take("<I")
        if spec != "WhisperSpec":
            raise ConversionError(f"{path}: a {spec}, not a Whisper model")
        variables: dict[str, np.ndarray] = {}
        for _ in range(count):
            name = text()
            (rank,) = take("<B")
            dims = take("<" + "I" * rank)
            (dtype,), (nbytes,) = take("<B"), take("<I")
            if dtype not in _DTYPES:
                raise ConversionError(f"{path}: {name} has CT2 dtype {dtype}; only unquantized models convert")
            variables[name] = np.frombuffer(data, _DTYPES[dtype], nbytes // np.dtype(_DTYPES[dtype]).itemsize,
                                            pos).reshape(dims)
            pos += nbytes
        (aliases,) = take("<I")
        for _ in range(aliases):
            alias, target = text(), text()
            variables[alias] = variables[target]
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ConversionError(f"{path}: not a readable CT2 model ({exc})") from exc
    if any(name.endswith("weight_scale") for name in variables):
        raise ConversionError(f"{path}: the model is int8-quantized; convert from a float16/float32 model")
    return variables


# CT2 name (after the layer prefix) → openai-whisper name, for weights that map one to one.
_LAYER_NAMES = {
    "self_attention/linear_1": "attn.out",
    "self_attention/layer_norm": "attn_ln",
    "attention/linear_0": "cross_attn.query",
    "attention/linear_2": "cross_attn.out",
    "attention/layer_norm": "cross_attn_ln",
    "ffn/linear_0": "mlp.0",
    "ffn/linear_1": "mlp.2",
    "ffn/layer_norm": "mlp_ln",
}
_TOP_NAMES = {
    "encoder/conv1": "encoder.conv1",
    "encoder/conv2": "encoder.conv2",
    "encoder/position_encodings": "encoder.positional_embedding",
    "decoder/position_encodings": "decoder.positional_embedding",
    "encoder/layer_norm": "encoder.ln_post",
    "decoder/layer_norm": "decoder.ln",
    "decoder/embeddings": "decoder.token_embedding",
}
_PARAM = {"weight": "weight", "bias": "bias", "gamma": "weight", "beta": "bias", "encodings": ""}
_LAYER = re.compile(r"^(encoder|decoder)/layer_(\d+)/(.+)/(\w+)$")


def to_whisper_state(variables: dict[str, np.ndarray]) -> tuple[dict, dict[str, torch.Tensor]]:
    """``(ModelDimensions fields, state_dict)`` for openai-whisper from CT2 variables."""
    state: dict[str, torch.Tensor] = {}

    def put(name: str, value: np.ndarray) -> None:
        state[name] = torch.from_numpy(np.array(value))  # copy: the source buffer is read-only

    for ct2_name, value in variables.items():
        if value.ndim == 0 or ct2_name == "decoder/projection/weight":
            continue  # scalars are config; the output projection is tied to the token embedding
        if match := _LAYER.match(ct2_name):
            side, index, module, param = match.groups()
            prefix = f"{side}.blocks.{index}."
            if module in ("self_attention/linear_0", "attention/linear_1"):
                _split_fused(put, prefix + ("attn" if module.startswith("self") else "cross_attn"),
                             param, value, ct2_name)
            else:
                put(prefix + f"{_LAYER_NAMES[module]}.{_PARAM[param]}", value)
        else:
            module, param = ct2_name.rsplit("/", 1)
            put(".".join(filter(None, (_TOP_NAMES[module], _PARAM[param]))), value)

    def count_layers(side: str) -> int:
        return len({k.split(".")[2] for k in state if k.startswith(f"{side}.blocks.")})

    width = state["encoder.conv1.weight"].shape[0]
    dims = dict(
        n_mels=state["encoder.conv1.weight"].shape[1],
        n_audio_ctx=state["encoder.positional_embedding"].shape[0],
        n_audio_state=width,
        n_audio_head=int(variables["encoder/num_heads"]),
        n_audio_layer=count_layers("encoder"),
        n_vocab=state["decoder.token_embedding.weight"].shape[0],
        n_text_ctx=state["decoder.positional_embedding"].shape[0],
        n_text_state=state["decoder.token_embedding.weight"].shape[1],
        n_text_head=int(variables["decoder/num_heads"]),
        n_text_layer=count_layers("decoder"),
    )
    return dims, state


def _split_fused(put: Callable[[str, np.ndarray], None], prefix: str, param: str, value: np.ndarray,
                 ct2_name: str) -> None:
    """CT2 fuses q,k,v (self-attention) or k,v (cross-attention) rows; Whisper's key has no bias."""
    parts = ("query", "key", "value") if prefix.endswith(".attn") else ("key", "value")
    chunks = np.split(value, len(parts))
    for part, chunk in zip(parts, chunks, strict=True):
        if param == "bias" and part == "key":
            if np.any(chunk):
                raise ConversionError(f"{ct2_name}: non-zero key bias cannot be represented in openai-whisper")
            continue
        put(f"{prefix}.{part}.{_PARAM[param]}", chunk)


def build_model(dims: dict, state: dict[str, torch.Tensor]) -> "whisper.model.Whisper":  # noqa: F821
    """An fp32 openai-whisper model with ``state`` loaded strictly (every name must match)."""
    from whisper.model import ModelDimensions, Whisper

    model = Whisper(ModelDimensions(**dims))
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ConversionError(f"converted weights do not fit openai-whisper: {exc}") from exc
    return model.eval()


def verify(model: "whisper.model.Whisper", ct2_dir: Path, *, tolerance: float = 1e-3) -> Verification:  # noqa: F821
    """Run the converted model and CT2 (float32) on the same fixed input and compare.

    Compares encoder states and the decoder's full-vocabulary logits at every position of a fixed
    English prefix plus the greedy continuation, so every weight takes part; differences count relative
    to the largest activation (float32 kernels differ in summation order). The input is a seeded
    synthetic signal, so verification needs no audio file at run time; tests repeat it on real speech.
    """
    import ctranslate2
    import whisper

    rng = np.random.default_rng(1234)
    t = np.arange(whisper.audio.N_SAMPLES) / whisper.audio.SAMPLE_RATE
    signal = 0.1 * np.sin(2 * np.pi * (200 + 40 * t) * t) + 0.02 * rng.standard_normal(t.size)
    mel = whisper.log_mel_spectrogram(torch.from_numpy(signal.astype(np.float32)), model.dims.n_mels)[None]

    ct2 = ctranslate2.models.Whisper(str(ct2_dir), device="cpu", compute_type="float32", intra_threads=2)
    tokenizer = whisper.tokenizer.get_tokenizer(model.is_multilingual, num_languages=model.num_languages,
                                                language="en", task="transcribe")
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    prefix = tokenizer.encode(" Hello, I would like to return the")
    result = ct2.generate(ctranslate2.StorageView.from_array(mel.numpy()), [prompt + prefix], beam_size=1,
                          max_length=64, return_logits_vocab=True, suppress_tokens=[], suppress_blank=False)[0]
    ct2_tokens = list(result.sequences_ids[0])  # the prefix, then CT2's greedy continuation
    ct2_logits = np.stack([np.array(step) for step in result.logits[0]])  # one more row when EOT ended it
    with torch.inference_mode():
        ours = model.encoder(mel)
        theirs = torch.from_numpy(np.array(ct2.encode(ctranslate2.StorageView.from_array(mel.numpy()))))
        encoder_diff = float((ours - theirs).abs().max())
        encoder_scale = float(theirs.abs().max())
        logits = model.decoder(torch.tensor([prompt + ct2_tokens]), ours)[0, len(prompt) - 1 :]
    logits = logits[: len(ct2_logits)]
    logits_diff = float((logits - torch.from_numpy(ct2_logits)).abs().max())
    logits_scale = float(np.abs(ct2_logits).max())
    # Greedy continuation: our argmax after the prefix must pick CT2's tokens (and its EOT).
    expected = ct2_tokens[len(prefix) :] + [tokenizer.eot] * (len(ct2_logits) - len(ct2_tokens))
    continuation = logits.argmax(-1).tolist()[len(prefix) :]
    check = Verification(encoder_diff, logits_diff, ct2_tokens, continuation == expected)
    if encoder_diff > tolerance * encoder_scale or logits_diff > tolerance * logits_scale or not check.tokens_match:
        raise ConversionError(f"converted model does not reproduce CT2: {check}")
    return check


def whisper_checkpoint(name: str, settings: Settings,
                       progress: Callable[[str], None] | None = None) -> Path:
    """Path of the openai-whisper checkpoint for registry model ``whisper-<name>``; converts once.

    The checkpoint is ``{"dims", "model_state_dict"}`` in float16, exactly the layout of OpenAI's own
    files, so ``whisper.load_model(path)`` loads it. A sidecar JSON records the source file and the
    verification figures; a changed source or :data:`FORMAT_VERSION` triggers reconversion.
    """
    say = progress or (lambda _msg: None)
    source_dir = resolve_model(f"whisper-{name}", settings)
    source = (source_dir / "model.bin").resolve()
    target = settings.models_dir / f"openai-whisper-{name}.pt"
    sidecar = target.with_suffix(".json")
    stat = source.stat()
    fingerprint = {"format": FORMAT_VERSION, "source": str(source), "size": stat.st_size,
                   "mtime_ns": stat.st_mtime_ns}
    with _lock:
        if target.is_file() and _read_json(sidecar).get("fingerprint") == fingerprint:
            return target
        say(f"converting whisper {name} from CTranslate2 ({stat.st_size / 1e6:.0f} MB)")
        dims, state = to_whisper_state(read_ct2(source))
        model = build_model(dims, state)
        say("verifying the converted model against CTranslate2")
        check = verify(model, source_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        torch.save({"dims": dims, "model_state_dict": {k: v.half() for k, v in state.items()}}, tmp)
        os.replace(tmp, target)
        sidecar.write_text(json.dumps({"fingerprint": fingerprint, "verification": asdict(check)}, indent=1))
        say(f"converted: encoder max diff {check.encoder_max_abs_diff:.2e}, "
            f"logits max diff {check.logits_max_abs_diff:.2e}, tokens identical")
        return target


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
