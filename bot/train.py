"""Train Rakel's model only when its inputs changed.

The model is cached under `var/models/<fingerprint>.tar.gz`, where the fingerprint
hashes everything that decides the model: config, domain, training data, knowledge
articles, and the versions of Rasa and the spaCy pipeline. Training on 2 cores takes
minutes; starting Rakel or the tests again with the same inputs takes none.

The content catalogue (knowledge/) feeds the training data: article examples become
`faq/<id>` NLU data, titles and answers the `utter_faq/<id>` responses the
reply classifier picks between, municipality words the lookup table; all generated
into `var/build/data/` at train time (bot.content.training_data), so knowledge/
stays the single source.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.content import training_data
from bot.content.catalogue import catalogue
from bot.content.render import KnowledgeBase
from bot.settings import CONTACT_DEFAULTS, PROJECT_ROOT, Settings, load_settings

CONFIG = PROJECT_ROOT / "config.yml"
DOMAIN = PROJECT_ROOT / "domain.yml"
DATA = PROJECT_ROOT / "bot" / "data"


def build_dir(settings: Settings) -> Path:
    return settings.var_dir / "build" / "data"


def models_dir(settings: Settings) -> Path:
    return settings.model_dir


def write_catalogue_data(settings: Settings) -> Path:
    """Generate the catalogue's NLU data and responses into the build folder.

    The responses are rendered with the default contact details: users never see them
    (action_answer_article renders the article itself), and a deployment's contact
    details must not change the model's fingerprint.
    """
    content = catalogue(settings.knowledge_dir)
    knowledge = KnowledgeBase(content.articles, CONTACT_DEFAULTS)
    return training_data.write(content, knowledge, build_dir(settings))


def nlu_testing_config(settings: Settings, config: Path = CONFIG) -> Path:
    """config.yml as `rasa test nlu` needs it: the same pipeline without the
    FallbackClassifier (cross-validation scores the classifier's own labels) and without
    policies. Derived here so the pipeline is declared once."""
    import yaml

    real = yaml.safe_load(config.read_text(encoding="utf-8"))
    # Rasa's FallbackClassifier or ours (bot/nlu/confirmed_fallback.py), by class name.
    real["pipeline"] = [c for c in real["pipeline"] if not c["name"].endswith("FallbackClassifier")]
    real.pop("policies", None)
    target = settings.var_dir / "build" / "config_nlu_testing.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(real, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _input_files(settings: Settings, config: Path = CONFIG, data_dir: Path = DATA) -> list[Path]:
    """Everything that decides the model: Rasa's files, the hand-written data and the
    data generated from the catalogue (so survey notes or comments elsewhere in
    knowledge/ never cause a retrain)."""
    files = [config, DOMAIN]
    files += sorted(data_dir.rglob("*.yml"))
    files += sorted(write_catalogue_data(settings).glob("*.yml"))
    return files


def _versions() -> str:
    import rasa
    import spacy

    # spacy.info gives the pipeline's meta as a dict (a str only when asked for markdown).
    nlp_meta = spacy.info("nb_core_news_sm") if hasattr(spacy, "info") else {}
    pipeline = nlp_meta.get("version") if isinstance(nlp_meta, dict) else None
    return f"rasa={rasa.__version__};spacy={spacy.__version__};model={pipeline}"


def _label(path: Path, settings: Settings, data_dir: Path) -> str:
    """A file as the fingerprint names it: where the var folder or a copy of the data
    lives must not matter, so the trainer's copy of unchanged files (bot/trainer.py)
    gives the repository's fingerprint."""
    if path.is_relative_to(data_dir):
        return str(DATA.relative_to(PROJECT_ROOT) / path.relative_to(data_dir))
    if path.is_relative_to(PROJECT_ROOT) and not path.is_relative_to(build_dir(settings)):
        return str(path.relative_to(PROJECT_ROOT))
    return path.name  # generated files by name only


def fingerprint(
    settings: Settings,
    config: Path = CONFIG,
    data_dir: Path = DATA,
    finetune_from: Path | None = None,
) -> str:
    digest = hashlib.sha256(_versions().encode())
    # A fine-tuned model depends on the model it started from, not only on its inputs.
    if finetune_from is not None:
        digest.update(f"finetune:{finetune_from.name}".encode())
    # Our NLU components are part of the model too.
    for path in [
        *sorted((PROJECT_ROOT / "bot" / "nlu").glob("*.py")),
        *_input_files(settings, config, data_dir),
    ]:
        digest.update(_label(path, settings, data_dir).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:20]


def data_paths(settings: Settings, data_dir: Path = DATA) -> list[str]:
    return [str(data_dir), str(write_catalogue_data(settings))]


def nlu_data_dir(settings: Settings) -> Path:
    """NLU examples plus the generated responses in one folder: `rasa test nlu` and
    `rasa train nlu` accept a single `--nlu` path."""
    target = settings.var_dir / "build" / "nlu"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(DATA / "nlu", target)
    for generated in write_catalogue_data(settings).glob("*.yml"):
        shutil.copy(generated, target)
    return target


def rasa_cli() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def ensure_model(
    settings: Settings | None = None,
    force: bool = False,
    config: Path = CONFIG,
    *,
    data_dir: Path = DATA,
    finetune_from: Path | None = None,
    extra_env: dict[str, str] | None = None,
    out_dir: Path | None = None,
    niceness: int = 0,
) -> Path:
    """Return the trained model for the current inputs, training it if needed.

    `config` is config.yml unless a test trains a small fixture model with fewer epochs.
    `data_dir` is bot/data unless the trainer trains from its copy with staff changes;
    `finetune_from` a model to fine-tune (`rasa train --finetune`; Rasa refuses when
    the labels differ, and this raises CalledProcessError). `extra_env` is added to the
    training process's environment (the trainer's thread limits). `out_dir` is the
    model cache unless the trainer keeps its models apart (it prunes them itself: a
    rollback target must not go with the cache's newest-three rule). `niceness` is
    added to the training process's (the benchmark trains as the trainer does).
    """
    settings = settings or load_settings()
    paths = data_paths(settings, data_dir)
    name = f"rakel-{fingerprint(settings, config, data_dir, finetune_from)}"
    target_dir = out_dir or models_dir(settings)
    target = target_dir / f"{name}.tar.gz"
    if target.exists() and not force:
        print(f"model up to date: {target}", flush=True)
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    print(f"training model {name} (inputs changed) ...", flush=True)
    # Train into a temporary folder and move into place at the end, so an
    # interrupted training never leaves a half-written model under the cached name.
    with tempfile.TemporaryDirectory(dir=target_dir) as tmp:
        command = [
            rasa_cli(),
            "train",
            "--config",
            str(config),
            "--domain",
            str(DOMAIN),
            "--data",
            *paths,
            "--out",
            tmp,
            "--fixed-model-name",
            name,
        ]
        if finetune_from is not None:
            command += ["--finetune", str(finetune_from)]
        started = time.monotonic()
        # Rasa imports our NLU components (bot.nlu) by module path: from this checkout.
        env = settings.child_environment(extra_env)
        subprocess.run(
            command,
            check=True,
            cwd=PROJECT_ROOT,
            env=env,
            # A session of its own, so its scheduler group is its own (see below).
            start_new_session=bool(niceness),
            preexec_fn=(lambda: lower_priority(niceness)) if niceness else None,  # noqa: PLW1509
        )
        seconds = time.monotonic() - started
        os.replace(Path(tmp) / f"{name}.tar.gz", target)
    # Recorded for `make bench`, which reports training time without retraining.
    target.with_suffix("").with_suffix(".json").write_text(
        json.dumps(
            {
                "training_seconds": round(seconds, 1),
                "versions": _versions(),
                "finetuned_from": finetune_from.name if finetune_from else None,
            }
        )
    )
    if out_dir is None:
        _prune(target_dir, keep=target)
    print(f"model trained: {target}", flush=True)
    return target


def lower_priority(niceness: int) -> None:
    """Run this process (a training) behind everything else on the machine.

    `nice` alone is not enough on Linux with autogroup scheduling (the default on most
    distributions): the CPU is first shared between sessions, equally, and nice only
    counts inside a session. Rakel's processes each have their own session under the
    tests, the benchmark and many supervisors, so a niced training still took a full
    core's share from the Rasa server (p95 at 10 users x17 in `make bench-training`).
    In its own session (start_new_session) the training's group gets the nice value
    too, through /proc/self/autogroup.
    """
    os.nice(niceness)
    try:
        Path("/proc/self/autogroup").write_text(str(niceness))
    except OSError:
        pass  # no autogroup scheduling here: the plain nice value is what counts


def training_record(model: Path) -> dict[str, Any]:
    """What ensure_model recorded when it trained `model` (empty if unknown)."""
    path = model.with_suffix("").with_suffix(".json")
    return json.loads(path.read_text()) if path.exists() else {}


def _prune(directory: Path, keep: Path, keep_count: int = 3) -> None:
    """Keep the newest few models (switching branches back and forth stays cheap)."""
    models = sorted(directory.glob("rakel-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    for old in models[:-keep_count]:
        if old != keep:
            old.unlink(missing_ok=True)
            old.with_suffix("").with_suffix(".json").unlink(missing_ok=True)
    # Leftovers of interrupted trainings; a folder younger than this may belong to a
    # training still running in another process sharing the cache.
    cutoff = time.time() - 6 * 3600
    for stale in directory.glob("tmp*"):
        if stale.is_dir() and stale.stat().st_mtime < cutoff:
            shutil.rmtree(stale, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="train even if cached")
    args = parser.parse_args(argv)
    ensure_model(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
