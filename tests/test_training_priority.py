"""A training runs behind the Rasa server: niced, and in a scheduler group of its own,
since with autogroup scheduling nice alone only counts inside a session
(bot/train.lower_priority; measured with `make bench-training`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.train import lower_priority


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
            assert group.read_text().split()[-1] == "19"
            # Its group, not the group of the process that started it.
            assert Path("/proc/self/autogroup").read_text().split()[-1] != "19"
    finally:
        training.kill()
        training.wait()
