"""Pictures drawn with Pillow for the vision tests (no files on disk)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw


def crossword_grid(seed: int = 1, cells: int = 10, cell: int = 24) -> Image.Image:
    """A crossword: a grid of white squares with some blacked out."""
    size = 16 + cells * cell
    image = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(seed)
    for i in range(cells):
        for j in range(cells):
            box = (8 + i * cell, 8 + j * cell, 8 + (i + 1) * cell, 8 + (j + 1) * cell)
            draw.rectangle(box, fill="black" if rng.random() < 0.25 else "white", outline="black", width=2)
    return image


def traffic_light() -> Image.Image:
    """A traffic light on a pole against a blue sky."""
    image = Image.new("RGB", (256, 256), (150, 190, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((98, 20, 158, 200), fill=(30, 30, 30))
    draw.rectangle((122, 200, 134, 256), fill=(80, 80, 80))
    for k, colour in enumerate([(230, 30, 30), (240, 200, 30), (40, 200, 60)]):
        draw.ellipse((108, 30 + k * 56, 148, 70 + k * 56), fill=colour)
    return image
