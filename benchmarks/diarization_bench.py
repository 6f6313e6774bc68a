"""Offline diarization quality and speed on espeak-ng dialogues with known turns.

Prints, per dialogue: DER (no collar) and its parts, word-speaker accuracy after
``assign_speakers``, the speaker count found, and speed as audio seconds per wall second
(× real time). Run: ``HF_HUB_OFFLINE=1 python benchmarks/diarization_bench.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from models.diarization import assign_speakers, diarization_errors, load_diarizer, word_speaker_accuracy
from tests.helpers.dialogue import THREE_VOICES, TWO_VOICES, synthesize_dialogue, without_speakers
from tests.helpers.speech import SAMPLE_RATE


def bench(diarizer, voices: tuple[str, ...], repeat: int) -> None:
    dialogue = synthesize_dialogue(voices)
    seconds = len(dialogue.audio) / SAMPLE_RATE
    started = time.perf_counter()
    for _ in range(repeat):
        turns = diarizer.diarize(dialogue.audio)
    wall = (time.perf_counter() - started) / repeat
    errors = diarization_errors(dialogue.turns, turns)
    assigned = assign_speakers(without_speakers(dialogue.segments), turns)
    accuracy = word_speaker_accuracy(dialogue.words, [w for s in assigned for w in s.words])
    print(
        f"{len(voices)} speakers ({', '.join(voices)}), {seconds:.1f} s audio: "
        f"found {len({t.speaker for t in turns})}, DER {errors.der:.3f} "
        f"(missed {errors.missed:.2f} s, false alarm {errors.false_alarm:.2f} s, "
        f"confusion {errors.confusion:.2f} s of {errors.total:.1f} s), "
        f"word accuracy {accuracy:.3f}, {wall:.2f} s wall = {seconds / wall:.1f}x real time"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per dialogue")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    started = time.perf_counter()
    diarizer = load_diarizer("offline", device=args.device)
    print(f"offline backend loaded in {time.perf_counter() - started:.2f} s on {args.device}")
    for voices in (TWO_VOICES, THREE_VOICES):
        bench(diarizer, voices, args.repeat)


if __name__ == "__main__":
    main()
