"""Every process restarted, one at a time, while employees keep chatting: nothing
that Rakel acknowledged is lost (the tracker store is on disk)."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests

pytestmark = pytest.mark.e2e

MESSAGES = [
    "hei",
    "hvordan setter jeg opp tofaktor?",
    "ja",
    "kamera virker ikke i teams",
    "nei",
    "nei takk",
    "når får jeg ny pc?",
    "takk",
]


def test_restarting_each_process_under_load_loses_no_acknowledged_message(rakel):
    url = f"{rakel.rasa_url}/webhooks/rest/webhook"
    stop = threading.Event()
    acknowledged: dict[str, list[str]] = {}
    lock = threading.Lock()

    def employee() -> None:
        sender = f"load-{uuid.uuid4().hex[:8]}"
        session = requests.Session()
        i = 0
        while not stop.is_set():
            text = MESSAGES[i % len(MESSAGES)]
            i += 1
            try:
                response = session.post(url, json={"sender": sender, "message": text}, timeout=60)
            except requests.RequestException:
                time.sleep(0.5)  # Rasa is restarting: the message was never accepted
                continue
            if response.status_code == 200 and response.json():
                with lock:
                    acknowledged.setdefault(sender, []).append(text)

    threads = [threading.Thread(target=employee) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        for name in ("actions", "web", "rasa"):
            rakel.restart(name)
            time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)

    assert sum(len(texts) for texts in acknowledged.values()) >= 8
    token = rakel.rasa_token
    for sender, texts in acknowledged.items():
        tracker = requests.get(
            f"{rakel.rasa_url}/conversations/anon:rest:{sender}/tracker",
            params={"token": token},
            timeout=30,
        ).json()
        stored = [e["text"] for e in tracker["events"] if e["event"] == "user"]
        # Every acknowledged message is in the stored history, in order.
        position = 0
        for text in texts:
            position = stored.index(text, position) + 1
