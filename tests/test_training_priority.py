"""A training runs behind the Rasa server: niced, and in a scheduler group of its own,
since with autogroup scheduling nice alone only counts inside a session
(bot/train.lower_priority; measured with `make bench-training`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.train import lower_priority


def _group_nice(path: Path) -> str | None:
    """The nice value in an autogroup file ("/autogroup-42 nice 19"), None if empty."""
    fields = path.read_text().split()
    return fields[-1] if fields else None


def test_a_training_process_is_niced_in_its_own_scheduler_group():
    training = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)"],
        start_new_session=True,
        preexec_fn=lambda: lower_priority(19),  # noqa: PLW1509 - as bot/train.py starts it
    )
    try:
        assert os.getpriority(os.PRIO_PROCESS, training.pid) == 19
        group = Path(f"/proc/{training.pid}/autogroup")
        if Path("/proc/self/autogroup").exists():  # kernels with autogroup scheduling
            assert _group_nice(group) == "19"
            # Its group, not the group of the process that started it. Some sandboxes
            # show an empty file for the test's own group: then there is nothing to compare.
            own = _group_nice(Path("/proc/self/autogroup"))
            assert own != "19"
    finally:
        training.kill()
        training.wait()
