"""Audio preprocessing of the reference ``load_and_transform_audio_data``, in torch without torchaudio.

Steps, each matching the reference:

1. resample to 16 kHz with torchaudio's default windowed-sinc filter (Hann window, 6 zero crossings,
   roll-off 0.99), reimplemented in :func:`resample`;
2. three 2-second clips placed by pytorchvideo's ``ConstantClipsPerVideoSampler`` (starts at 0, (d-2)/3 and
   2(d-2)/3 seconds, computed with exact fractions, cut with ``int(seconds * 16000)``);
3. per clip: subtract the clip's mean *in place*, over every channel (the reference mutates the shared
   waveform, so overlapping clips of short audio see the earlier clips' subtraction, and so does this port);
4. Kaldi ``fbank`` of channel 0 (25 ms Hann frames every 10 ms, no dither, DC removal, pre-emphasis 0.97,
   512-point power spectrum, 128 mel bins from 20 Hz to Nyquist, log floored at float32 epsilon: mel bin 3 is
   empty at these settings and always reads log(eps) = -15.9424, as in torchaudio), written in :func:`fbank`;
5. pad with zeros or cut to 204 frames, then normalise with mean -4.268 and std 9.138.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import Tensor

SAMPLE_RATE = 16_000
NUM_MEL_BINS = 128
TARGET_FRAMES = 204
CLIP_SECONDS = 2
CLIPS_PER_ITEM = 3
FBANK_MEAN = -4.268
FBANK_STD = 9.138
FRAME_LENGTH_MS = 25.0
FRAME_SHIFT_MS = 10.0
LOW_FREQ_HZ = 20.0
PREEMPHASIS = 0.97
_EPSILON = torch.finfo(torch.float32).eps


# --- resampling ------------------------------------------------------------------------------------------------
def _sinc_kernel(orig: int, new: int, dtype: torch.dtype, zeros: int = 6, rolloff: float = 0.99) -> tuple[Tensor, int]:
    """Polyphase windowed-sinc filters, one row per output phase, built as torchaudio builds them: in the
    waveform's dtype (float32 for ImageBind), which moves the filter taps by ~1e-7 against float64 math."""
    base = min(orig, new) * rolloff
    width = math.ceil(zeros * orig / base)
    taps = torch.arange(-width, width + orig, dtype=dtype)[None, None] / orig
    t = torch.arange(0, -new, -1, dtype=dtype)[:, None, None] / new + taps
    t = (t * base).clamp_(-zeros, zeros)
    window = torch.cos(t * math.pi / zeros / 2) ** 2
    t = t * math.pi
    kernels = torch.where(t == 0, torch.tensor(1.0).to(t), t.sin() / t)
    return kernels * (window * (base / orig)), width


def resample(waveform: Tensor, orig_freq: int, new_freq: int = SAMPLE_RATE) -> Tensor:
    """(..., samples) float -> (..., ceil(samples * new / orig)) by band-limited sinc interpolation."""
    if orig_freq == new_freq:
        return waveform
    gcd = math.gcd(orig_freq, new_freq)
    orig, new = orig_freq // gcd, new_freq // gcd
    if not waveform.is_floating_point():
        raise TypeError(f"resample needs a floating-point waveform, got {waveform.dtype}")
    shape = waveform.shape
    flat = waveform.reshape(-1, shape[-1])
    kernel, width = _sinc_kernel(orig, new, flat.dtype)
    kernel = kernel.to(flat.device)
    length = flat.shape[-1]
    padded = F.pad(flat, (width, width + orig))
    out = F.conv1d(padded[:, None], kernel, stride=orig)
    out = out.transpose(1, 2).reshape(flat.shape[0], -1)
    # torchaudio rounds the expected length through a float32 tensor before its ceil; so does this.
    target = int(torch.ceil(torch.tensor(new * length / orig, dtype=torch.float32)))
    return out[..., :target].reshape(*shape[:-1], -1)


# --- Kaldi filterbank ----------------------------------------------------------------------------------------
def _mel(freq: Tensor) -> Tensor:
    return 1127.0 * (1.0 + freq / 700.0).log()


def _mel_scalar(freq: float) -> float:
    return 1127.0 * math.log(1.0 + freq / 700.0)


def mel_banks(num_bins: int, fft_size: int, sample_rate: float, low_freq: float, high_freq: float) -> Tensor:
    """(num_bins, fft_size // 2 + 1) triangular filters on the mel scale, Kaldi's construction in float32.

    The last column (Nyquist) is zero, as in Kaldi. With 128 bins over a 512-point FFT at 16 kHz some low
    filters are narrower than one FFT bin, and filter 3 catches no bin at all.
    """
    fft_bin_width = sample_rate / fft_size
    mel_low, mel_high = _mel_scalar(low_freq), _mel_scalar(high_freq)
    delta = (mel_high - mel_low) / (num_bins + 1)
    index = torch.arange(num_bins).unsqueeze(1)
    left = mel_low + index * delta
    center = mel_low + (index + 1.0) * delta
    right = mel_low + (index + 2.0) * delta
    mel = _mel(fft_bin_width * torch.arange(float(fft_size // 2))).unsqueeze(0)
    up = (mel - left) / (center - left)
    down = (right - mel) / (right - center)
    banks = torch.max(torch.zeros(1), torch.min(up, down))
    return F.pad(banks, (0, 1))


def fbank(samples: Tensor, sample_rate: int = SAMPLE_RATE, num_mel_bins: int = NUM_MEL_BINS) -> Tensor:
    """Log-mel filterbank (frames, num_mel_bins) of a 1-D float32 signal, as torchaudio's
    ``compliance.kaldi.fbank`` with ImageBind's options. Fewer than one frame of samples gives 0 frames."""
    frame_length = int(sample_rate * FRAME_LENGTH_MS / 1000)
    frame_shift = int(sample_rate * FRAME_SHIFT_MS / 1000)
    fft_size = 1 << (frame_length - 1).bit_length()
    if samples.shape[0] < frame_length:
        return samples.new_zeros((0, num_mel_bins))
    frames = samples.unfold(0, frame_length, frame_shift)  # snip_edges: only whole frames
    frames = frames - frames.mean(dim=1, keepdim=True)
    previous = F.pad(frames.unsqueeze(0), (1, 0), mode="replicate").squeeze(0)[:, :-1]
    frames = frames - PREEMPHASIS * previous
    frames = frames * torch.hann_window(frame_length, periodic=False, dtype=samples.dtype, device=samples.device)
    frames = F.pad(frames, (0, fft_size - frame_length))
    power = torch.fft.rfft(frames).abs().pow(2.0)
    banks = mel_banks(num_mel_bins, fft_size, sample_rate, LOW_FREQ_HZ, sample_rate / 2).to(power)
    energies = torch.mm(power, banks.T)
    return torch.max(energies, torch.tensor(_EPSILON, dtype=energies.dtype, device=energies.device)).log()


# --- clips -------------------------------------------------------------------------------------------------------
def clip_bounds(num_samples: int, sample_rate: int = SAMPLE_RATE) -> list[tuple[int, int]]:
    """Sample ranges of the three clips: pytorchvideo's ``ConstantClipsPerVideoSampler(2, 3)``."""
    duration = num_samples / sample_rate
    spacing = Fraction(Fraction(max(duration - CLIP_SECONDS, 0)), CLIPS_PER_ITEM)
    bounds = []
    for index in range(CLIPS_PER_ITEM):
        start = spacing * index
        bounds.append((int(start * sample_rate), int((start + CLIP_SECONDS) * sample_rate)))
    return bounds


def fit_frames(features: Tensor, target: int = TARGET_FRAMES) -> Tensor:
    """(frames, bins) -> (bins, target): transpose, then zero-pad on the right or cut."""
    features = features.transpose(0, 1)
    missing = target - features.shape[1]
    if missing > 0:
        return F.pad(features, (0, missing))
    return features[:, :target]


def waveform_to_clips(waveform: Tensor, sample_rate: int) -> Tensor:
    """(channels, samples) float32 at ``sample_rate`` -> (3, 1, 128, 204) normalised filterbank clips."""
    if waveform.ndim == 1:
        waveform = waveform.unsqueeze(0)
    work = resample(waveform.to(torch.float32), sample_rate, SAMPLE_RATE).clone()
    clips = []
    for start, end in clip_bounds(work.shape[1]):
        clip = work[:, start:end]  # a view: the subtraction below changes `work`, as in the reference
        clip -= clip.mean()
        features = fit_frames(fbank(clip[0]))
        clips.append(((features - FBANK_MEAN) / FBANK_STD).unsqueeze(0))
    return torch.stack(clips)


def clip_to_batch_item(samples: NDArray[np.float32], sample_rate: int) -> Tensor:
    """A mono (samples,) or multi-channel (samples, channels) array -> (3, 1, 128, 204); channel 0 is used."""
    array = np.asarray(samples, dtype=np.float32)
    waveform = torch.from_numpy(array.T.copy() if array.ndim == 2 else array.copy())
    return waveform_to_clips(waveform, sample_rate)
