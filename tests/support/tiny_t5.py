"""A tiny T5 the tests build and save themselves (no download, no sentencepiece): a word-level tokenizer over
the texts it must read and write, and a 2-layer, 32-wide model in ``save_pretrained`` layout (or any other
shape: ``benchmarks/gpu_backends.py`` builds T5-base and T5-large with random weights the same way)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def word_tokenizer(texts: Iterable[str]) -> Any:
    """A word-level tokenizer over ``texts``; other words become <unk>. Ids 0/1/2 are <pad>, </s>, <unk>."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    splitter = pre_tokenizers.Whitespace()
    words = sorted({word for text in texts for word, _ in splitter.pre_tokenize_str(text)})
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{word: i + 3 for i, word in enumerate(words)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = splitter
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


@dataclass(frozen=True)
class T5Shape:
    d_model: int
    d_ff: int
    d_kv: int
    num_heads: int
    num_layers: int  # encoder and decoder each


TINY = T5Shape(d_model=32, d_ff=64, d_kv=8, num_heads=2, num_layers=2)


def save_tiny_t5(tokenizer: Any, path: Path, shape: T5Shape = TINY, device: str = "cpu") -> Path:
    """A freshly initialised (seed 0) T5 for ``tokenizer``, tiny unless ``shape`` says otherwise (initialised on
    ``device``: a T5-large is quicker to build on a GPU), saved with the tokenizer under ``path``."""
    import torch
    import transformers

    torch.manual_seed(0)
    # decoder_start_token_id goes through PretrainedConfig's **kwargs, which the stubs do not show.
    config = transformers.T5Config(  # type: ignore[call-arg]
        vocab_size=len(tokenizer),
        d_model=shape.d_model,
        d_ff=shape.d_ff,
        d_kv=shape.d_kv,
        num_heads=shape.num_heads,
        num_layers=shape.num_layers,
        num_decoder_layers=shape.num_layers,
        decoder_start_token_id=0,
        pad_token_id=0,
        eos_token_id=1,
    )
    with torch.device(device):
        model = transformers.T5ForConditionalGeneration(config)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
