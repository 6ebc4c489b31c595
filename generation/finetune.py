"""Fine-tune a seq2seq checkpoint (T5 / Flan-T5) for the ``t5`` backend on (question, passages, answer) JSONL.

A plain torch loop (AdamW, linear decay, gradient clipping, bf16 autocast on CUDA): the model sees exactly
the input :class:`~generation.t5.T5Generator` builds (:func:`generation.prompting.build_seq2seq_input`), and
learns to write the [n] markers the answers in the JSONL carry (see :mod:`generation.datasets`). The result
is written with ``save_pretrained`` (model and tokenizer) plus ``bindesk_finetune.json`` describing the run.

    python -m generation.finetune BASE_DIR TRAIN.jsonl OUT_DIR [--epochs 3 --lr 3e-4 --batch-size 8]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from core.errors import CheckpointMismatch, InvalidInput, ModelUnavailable
from generation.datasets import TrainingExample, read_jsonl
from generation.prompting import SEQ2SEQ_FORMAT_VERSION, build_seq2seq_input

log = logging.getLogger(__name__)

METADATA_FILE = "bindesk_finetune.json"


@dataclass(frozen=True)
class FinetuneResult:
    out_dir: Path
    examples: int
    epochs: int
    steps: int
    epoch_losses: list[float]  # mean training loss of each epoch
    seconds: float


def finetune_t5(
    base_dir: Path,
    train_jsonl: Path,
    out_dir: Path,
    epochs: int = 3,
    lr: float = 3e-4,
    batch_size: int = 8,
    *,
    max_input_tokens: int = 512,
    max_target_tokens: int = 128,
    device: str = "auto",
    seed: int = 0,
) -> FinetuneResult:
    """Train the checkpoint in ``base_dir`` on ``train_jsonl`` and save the result to ``out_dir``."""
    if epochs < 1 or batch_size < 1 or lr <= 0:
        raise InvalidInput("epochs and batch_size must be at least 1 and lr positive")
    examples = read_jsonl(train_jsonl)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.manual_seed(seed)
    model, tokenizer = _load(Path(base_dir))
    target_device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
    model.to(target_device).train()

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    inputs = [build_seq2seq_input(e.to_request(), count, max_input_tokens) for e in examples]
    started = time.perf_counter()
    epoch_losses = _train(
        model,
        _Batches(
            tokenizer,
            inputs,
            [e.answer for e in examples],
            batch_size,
            max_input_tokens,
            max_target_tokens,
            random.Random(seed),
        ),
        epochs=epochs,
        lr=lr,
        device=target_device,
    )
    steps = epochs * math.ceil(len(examples) / batch_size)
    result = FinetuneResult(Path(out_dir), len(examples), epochs, steps, epoch_losses, time.perf_counter() - started)
    _save(model, tokenizer, Path(out_dir), Path(base_dir), result, lr=lr, batch_size=batch_size)
    return result


@dataclass(frozen=True)
class _Batches:
    """Tokenised training batches in a fresh random order on every pass."""

    tokenizer: Any
    inputs: list[str]
    targets: list[str]
    batch_size: int
    max_input_tokens: int
    max_target_tokens: int
    chooser: random.Random

    def __len__(self) -> int:
        return math.ceil(len(self.inputs) / self.batch_size)

    def shuffled(self) -> Iterator[dict[str, Any]]:
        order = self.chooser.sample(range(len(self.inputs)), len(self.inputs))
        for start in range(0, len(order), self.batch_size):
            picked = order[start : start + self.batch_size]
            yield _batch(
                self.tokenizer,
                [self.inputs[i] for i in picked],
                [self.targets[i] for i in picked],
                self.max_input_tokens,
                self.max_target_tokens,
            )


def _train(model: Any, batches: _Batches, *, epochs: int, lr: float, device: str) -> list[float]:
    """AdamW with linear decay to zero, gradient norm clipped at 1, bf16 autocast on CUDA; mean loss per epoch."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    total_steps = epochs * len(batches)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: max(0.0, 1.0 - step / total_steps))
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda"))
    epoch_losses: list[float] = []
    for epoch in range(epochs):
        losses = []
        for batch in batches.shuffled():
            with autocast:
                loss = model(**{k: v.to(device) for k, v in batch.items()}).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
        epoch_losses.append(sum(losses) / len(losses))
        log.info("fine-tune epoch %d/%d: mean loss %.4f", epoch + 1, epochs, epoch_losses[-1])
    return epoch_losses


def _load(base_dir: Path) -> tuple[Any, Any]:
    if not (base_dir / "config.json").is_file():
        raise ModelUnavailable(f"no seq2seq checkpoint to fine-tune at {base_dir} (config.json missing)")
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(base_dir, local_files_only=True)
        model = AutoModelForSeq2SeqLM.from_pretrained(base_dir, local_files_only=True)
    except (OSError, ValueError) as error:
        raise CheckpointMismatch(f"cannot load a seq2seq checkpoint from {base_dir}: {error}") from error
    return model, tokenizer


def _batch(tokenizer: Any, inputs: list[str], targets: list[str], max_input: int, max_target: int) -> dict[str, Any]:
    encoded = tokenizer(inputs, return_tensors="pt", padding=True, truncation=True, max_length=max_input)
    labels = tokenizer(text_target=targets, return_tensors="pt", padding=True, truncation=True, max_length=max_target)
    label_ids = labels["input_ids"]
    label_ids[label_ids == tokenizer.pad_token_id] = -100  # padding is not learned
    return {"input_ids": encoded["input_ids"], "attention_mask": encoded["attention_mask"], "labels": label_ids}


def _save(model: Any, tokenizer: Any, out_dir: Path, base_dir: Path, result: FinetuneResult, **settings: Any) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    metadata = {
        "base": str(base_dir),
        "input_format_version": SEQ2SEQ_FORMAT_VERSION,
        **{k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(result).items()},
        **settings,
    }
    (out_dir / METADATA_FILE).write_text(json.dumps(metadata, indent=2), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fine-tune a local T5 checkpoint for Bindesk's t5 generator.")
    parser.add_argument("base_dir", type=Path)
    parser.add_argument("train_jsonl", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-input-tokens", type=int, default=512)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = finetune_t5(
        args.base_dir,
        args.train_jsonl,
        args.out_dir,
        args.epochs,
        args.lr,
        args.batch_size,
        max_input_tokens=args.max_input_tokens,
        device=args.device,
    )
    print(json.dumps({k: str(v) if isinstance(v, Path) else v for k, v in asdict(result).items()}))
    return 0


__all__ = ["FinetuneResult", "TrainingExample", "finetune_t5", "main"]

if __name__ == "__main__":
    raise SystemExit(main())
