"""Install and verify the Norwegian spaCy pipeline `nb_core_news_sm`.

Order: a wheel in the shared models folder (offline machines), else spaCy's
official release URL (machines with internet). If neither yields a loadable
Norwegian pipeline, stop with a clear message: Rakel must never silently run
on a blank model, whose NLU would be far worse without anyone noticing.

A wheel is installed only if its sha256 is the one recorded for its file name in
WHEEL_SHA256; a changed wheel, or one with no recorded digest, stops setup before
pip sees it, with the file and both digests named. pip checks the digest again
while installing (`#sha256=` on the URL it gets).

Run with the project venv's python: `python scripts/install_model.py`.
"""

from __future__ import annotations

import glob
import hashlib
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

MODEL = "nb_core_news_sm"
OFFICIAL_URL = (
    "https://github.com/explosion/spacy-models/releases/download/"
    "nb_core_news_sm-3.4.0/nb_core_news_sm-3.4.0-py3-none-any.whl"
)
ROOT = Path(__file__).resolve().parent.parent
WHEEL_DIR = Path(os.environ.get("RAKEL_MODEL_WHEEL_DIR", ROOT.parent / "shared" / "models"))
MODEL_URL = os.environ.get("RAKEL_MODEL_URL", OFFICIAL_URL)

# The one record of which model wheels may be installed. The +norne build is the one
# in ../shared/models (see its README). Explosion's official 3.4.0 wheel has no entry
# yet: nobody here could download it to take its digest, so the URL is refused until
# someone who has verified that file records its sha256 below.
WHEEL_SHA256 = {
    "nb_core_news_sm-3.4.0+norne-py3-none-any.whl": (
        "045b21a5fbbf612edf44766f520e85c8bebac0b7d86da25baa39b828bfa95c74"
    ),
}

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


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as wheel:
        for block in iter(lambda: wheel.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def refuse(message: str) -> int:
    print(f"\nERROR: {message}", file=sys.stderr)
    return 1


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
    sources: list[str] = []
    wheels = sorted(glob.glob(str(WHEEL_DIR / f"{MODEL}-*.whl")))
    if wheels:
        wheel = Path(wheels[-1])
        expected = WHEEL_SHA256.get(wheel.name)
        actual = sha256_of(wheel)
        if expected is None:
            return refuse(
                f"no sha256 is recorded for the spaCy model wheel {wheel}; nothing was installed.\n"
                f"  actual:   sha256 {actual}\n"
                "Install only a wheel whose origin you know: record its digest in WHEEL_SHA256\n"
                "in scripts/install_model.py, then run setup again."
            )
        if actual != expected:
            return refuse(
                f"the spaCy model wheel {wheel} is not the recorded one; nothing was installed.\n"
                f"  expected: sha256 {expected}\n"
                f"  actual:   sha256 {actual}\n"
                "The file was changed or damaged. Put the recorded wheel back; if it was rebuilt\n"
                "on purpose, record the new digest in WHEEL_SHA256 in scripts/install_model.py."
            )
        sources.append(f"{wheel.as_uri()}#sha256={expected}")
    # The download's digest is the one recorded for the file name the URL ends in
    # ('+' may come percent-encoded); any fragment of the URL's own is replaced.
    url = MODEL_URL.split("#", 1)[0]
    if url_digest := WHEEL_SHA256.get(unquote(url.rsplit("/", 1)[-1])):
        sources.append(f"{url}#sha256={url_digest}")
    for source in sources:
        if pip_install(source) and (found := model_works()):
            print(f"spaCy model ok: {found}")
            return 0
    url_reason = "failed or did not load" if url_digest else "refused: no sha256 recorded for it"
    return refuse(
        f"the Norwegian spaCy pipeline '{MODEL}' could not be installed.\n"
        f"  - no usable wheel in {WHEEL_DIR}\n"
        f"  - download from {MODEL_URL} {url_reason}\n"
        "Rakel will not start on a blank model. Put the wheel into the folder above\n"
        "(or set RAKEL_MODEL_WHEEL_DIR / RAKEL_MODEL_URL) and run setup again."
    )


if __name__ == "__main__":
    sys.exit(main())
