"""Install and verify the Norwegian spaCy pipeline `nb_core_news_sm`.

Order: a wheel in the shared models folder (offline machines), else spaCy's
official release URL (machines with internet). If neither yields a loadable
Norwegian pipeline, stop with a clear message: Rakel must never silently run
on a blank model, whose NLU would be far worse without anyone noticing.

Run with the project venv's python: `python scripts/install_model.py`.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

MODEL = "nb_core_news_sm"
OFFICIAL_URL = (
    "https://github.com/explosion/spacy-models/releases/download/"
    "nb_core_news_sm-3.4.0/nb_core_news_sm-3.4.0-py3-none-any.whl"
)
ROOT = Path(__file__).resolve().parent.parent
WHEEL_DIR = Path(os.environ.get("RAKEL_MODEL_WHEEL_DIR", ROOT.parent / "shared" / "models"))
MODEL_URL = os.environ.get("RAKEL_MODEL_URL", OFFICIAL_URL)

CHECK = (
    "import spacy, sys\n"
    f"nlp = spacy.load({MODEL!r})\n"
    "assert nlp.lang == 'nb', nlp.lang\n"
    "doc = nlp('Jeg fikk ikke logget på Teams i går')\n"
    "lemmas = [t.lemma_ for t in doc]\n"
    # A blank pipeline has no trained components and returns no lemmas.
    "assert nlp.pipe_names and any(lemmas), (nlp.pipe_names, lemmas)\n"
    "print(nlp.lang + '_' + nlp.meta['name'], nlp.meta['version'], ','.join(nlp.pipe_names))\n"
)


def model_works() -> str | None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 else None


def pip_install(target: str) -> bool:
    print(f"  installing {MODEL} from {target}", flush=True)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", target],
        check=False,
    )
    return result.returncode == 0


def main() -> int:
    found = model_works()
    if found:
        print(f"spaCy model ok: {found}")
        return 0
    wheels = sorted(glob.glob(str(WHEEL_DIR / f"{MODEL}-*.whl")))
    sources = wheels[-1:] + [MODEL_URL]
    for source in sources:
        if pip_install(source) and (found := model_works()):
            print(f"spaCy model ok: {found}")
            return 0
    print(
        f"\nERROR: the Norwegian spaCy pipeline '{MODEL}' could not be installed.\n"
        f"  - no usable wheel in {WHEEL_DIR}\n"
        f"  - download from {MODEL_URL} failed or did not load\n"
        "Rakel will not start on a blank model. Put the wheel into the folder above\n"
        "(or set RAKEL_MODEL_WHEEL_DIR / RAKEL_MODEL_URL) and run setup again.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
