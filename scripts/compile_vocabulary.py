"""Regenerate ``src/trialmatch/data/vocabulary/compiled.json`` after editing the vocabulary.

    .venv/bin/python scripts/compile_vocabulary.py

A test fails while the compiled file is out of date; trialmatch itself falls back to the YAML
files (slower start, same answers) until it is regenerated.
"""

from pathlib import Path

from trialmatch.model.vocab import compile_vocabulary

if __name__ == "__main__":
    here = Path(__file__).resolve().parents[1] / "src" / "trialmatch" / "data" / "vocabulary"
    print(f"wrote {compile_vocabulary(here)}")
