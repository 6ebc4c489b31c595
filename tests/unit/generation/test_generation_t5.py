"""The t5 backend and its fine-tuning pipeline, on a tiny T5 built and trained here.

The tokenizer is a word-level one made from this file's texts (no download, no sentencepiece); the model a
2-layer T5 with d_model 32. Fine-tuning it on two examples is the fine-tuning test; the result then serves
the generator tests: end to end, batched, streamed, and with the guardrails holding.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from core.errors import CheckpointMismatch, ModelUnavailable  # noqa: E402
from generation.datasets import TrainingExample, TrainingPassage, write_jsonl  # noqa: E402
from generation.finetune import METADATA_FILE, FinetuneResult, finetune_t5  # noqa: E402
from generation.guardrails import EMPTY_ANSWER  # noqa: E402
from generation.prompting import build_seq2seq_input  # noqa: E402
from generation.protocol import GenerationRequest, Generator, Passage  # noqa: E402
from generation.t5 import T5Generator  # noqa: E402
from tests.support.tiny_t5 import save_tiny_t5, word_tokenizer  # noqa: E402

RESET = TrainingPassage("Reset", "Hold the reset button for ten seconds.")
WARRANTY = TrainingPassage("Warranty", "The warranty lasts two years.")
EXAMPLES = [
    TrainingExample("How do I reset the router?", [RESET, WARRANTY], "Hold the reset button for ten seconds [1]."),
    TrainingExample("How long is the warranty?", [RESET, WARRANTY], "The warranty lasts two years [2]."),
]
UNRELATED = Passage(1, "c", "d", "oven.pdf", "Ovens", None, "Pizza ovens ship within three days.", 1.0)


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread() -> Iterator[None]:
    """A tiny model gains nothing from threads, and on a shared 2-core machine they only contend."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    yield
    torch.set_num_threads(previous)


def _word_tokenizer() -> object:
    texts = [UNRELATED.text, UNRELATED.title]
    for example in EXAMPLES:
        texts += [build_seq2seq_input(example.to_request(), lambda s: len(s.split()), 256), example.answer]
    return word_tokenizer(texts)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised tiny T5 and its tokenizer, saved with save_pretrained."""
    return save_tiny_t5(_word_tokenizer(), tmp_path_factory.mktemp("tiny-t5"))


@pytest.fixture(scope="module")
def finetuned(base_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> FinetuneResult:
    work = tmp_path_factory.mktemp("finetune")
    write_jsonl(EXAMPLES, work / "train.jsonl")
    return finetune_t5(
        base_dir, work / "train.jsonl", work / "out", epochs=100, lr=1e-2, batch_size=2, max_input_tokens=128
    )


@pytest.fixture(scope="module")
def generator(finetuned: FinetuneResult) -> T5Generator:
    generator = T5Generator(finetuned.out_dir, device="cpu", max_new_tokens=24, batch_size=2)
    generator.warm_up()
    return generator


def test_finetuning_lowers_the_loss_and_writes_a_loadable_checkpoint(finetuned: FinetuneResult) -> None:
    assert finetuned.examples == 2 and finetuned.steps == 100
    assert finetuned.epoch_losses[-1] < 0.3 * finetuned.epoch_losses[0]
    metadata = json.loads((finetuned.out_dir / METADATA_FILE).read_text())
    assert metadata["input_format_version"] == 1 and metadata["epoch_losses"] == finetuned.epoch_losses
    assert (finetuned.out_dir / "config.json").is_file()


def test_answers_end_to_end_with_citations(generator: T5Generator) -> None:
    assert isinstance(generator, Generator)
    reset = generator.generate(EXAMPLES[0].to_request())
    warranty = generator.generate(EXAMPLES[1].to_request())
    assert reset.cited == [1] and "reset button" in reset.text
    assert warranty.cited == [2] and "two years" in warranty.text
    assert "[" not in reset.text + warranty.text  # markers became citations


def test_batches_give_the_same_answers_as_one_by_one(generator: T5Generator) -> None:
    requests = [EXAMPLES[0].to_request(), EXAMPLES[1].to_request(), EXAMPLES[0].to_request()]
    assert generator.generate_batch(requests) == [generator.generate(r) for r in requests]


def test_stream_joins_to_the_generated_text(generator: T5Generator) -> None:
    request = EXAMPLES[1].to_request()
    assert "".join(generator.stream(request)) == generator.generate(request).text
    assert list(generator.stream_sentences(request)) == generator.generate(request).sentences


def test_output_that_no_passage_supports_is_not_answered(generator: T5Generator) -> None:
    request = GenerationRequest("How do I reset the router?", [], [UNRELATED])
    (raw,) = generator.generate_text([request])
    assert raw.strip()  # the model did say something ...
    assert generator.generate(request) == EMPTY_ANSWER  # ... but nothing a passage supports
    assert list(generator.stream(request)) == []


def test_input_fits_the_budget_and_keeps_the_best_passage(finetuned: FinetuneResult) -> None:
    generator = T5Generator(finetuned.out_dir, device="cpu", max_input_tokens=40)
    long_passages = [
        Passage(n, f"c{n}", f"d{n}", "", "Reset", None, "Hold the reset button for ten seconds. " * 5, 1.0)
        for n in (1, 2, 3)
    ]
    text = generator.input_text(GenerationRequest("How do I reset the router?", [], long_passages))
    tokenizer = transformers.AutoTokenizer.from_pretrained(finetuned.out_dir)
    assert len(tokenizer(text)["input_ids"]) <= 40
    assert "[1] Reset:" in text and "[3]" not in text


def test_missing_or_wrong_checkpoints_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="no seq2seq checkpoint"):
        T5Generator(tmp_path / "nothing").warm_up()
    transformers.GPT2Config(n_layer=1, n_embd=8, n_head=2).save_pretrained(tmp_path / "gpt2")
    with pytest.raises(CheckpointMismatch, match="not an encoder-decoder"):
        T5Generator(tmp_path / "gpt2").warm_up()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is absent")
def test_asking_for_cuda_without_it_is_reported(finetuned: FinetuneResult) -> None:
    with pytest.raises(ModelUnavailable, match="no CUDA device"):
        T5Generator(finetuned.out_dir, device="cuda").warm_up()


def test_static_cache_gives_the_same_answers(finetuned: FinetuneResult, generator: T5Generator) -> None:
    """The fixed-size cache (what ``auto`` picks on a GPU) pads inputs to the budget; the answers must not move."""
    static = T5Generator(finetuned.out_dir, device="cpu", max_new_tokens=24, batch_size=2, cache="static")
    static.warm_up()  # loads, then answers a made-up request (what compiles the decoder on a GPU)
    requests = [example.to_request() for example in EXAMPLES]

    assert static.generate_text(requests) == generator.generate_text(requests)
    assert static._generation_options()["cache_implementation"] == "static"
    assert static._encode(requests[:1])["input_ids"].shape[1] == static.max_input_tokens
    assert not generator.static_cache  # "dynamic" here; "auto" is static only on CUDA
    auto = T5Generator(finetuned.out_dir, device="cpu", cache="auto")
    auto.warm_up()
    assert not auto.static_cache
