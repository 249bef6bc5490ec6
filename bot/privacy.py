"""Mask personal data in free text before anything stores it.

Applied where a message enters Rakel (the channel classes in bot/channels/), so the
tracker store, logs and tickets only ever see the masked text. Masked:

- fødselsnummer / D-nummer: 11 digits (optionally "ddmmyy nnnnn") whose two mod-11
  check digits are valid, so ordinary 11-digit numbers (order numbers) stay readable;
- anything given as a password ("passord: …", "passordet mitt er …", "pw …");
- phone numbers: Norwegian 8-digit numbers (with spaces or +47/0047) and other
  international numbers written with a leading "+".
"""

from __future__ import annotations

import re

FNR_MASK = "[fødselsnummer fjernet]"
PASSWORD_MASK = "[passord fjernet]"  # noqa: S105 - the mask, not a password
PHONE_MASK = "[telefonnummer fjernet]"

_FNR_CANDIDATE = re.compile(r"(?<![\d-])(\d{6})[ ]?(\d{5})(?![\d-])")
_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

# "passord: x", "passordet mitt er x", "mitt passord er x", "pw=x", "password is x",
# Nynorsk "passordet mitt er x". The secret is the next whitespace-free token.
_PASSWORD = re.compile(
    r"(?i)\b(passord(?:et)?|password|pass(?:ord)?ordet|pw|pwd|passwd|kodeord(?:et)?|pin(?:-?kode(?:n)?)?)"
    # A separator is required: "passordet mitt virker ikke" names no password.
    r"((?:\s+(?:mitt|min|mine|nye|nytt))*(?:\s+(?:er|is|blir|var|e|skal\s+være)\s+|\s*[:=]\s*))"
    r"(?=\S)([^\s]+)"
)
# 8-digit Norwegian numbers: "91234567", "912 34 567", "91 23 45 67", optional +47/0047.
_PHONE_NO = re.compile(
    r"(?<![\w+])(?:(?:\+|00)47[\s-]?)?(?:\d{8}|\d{3}[\s-]\d{2}[\s-]\d{3}|\d{2}(?:[\s-]\d{2}){3})(?![\w])"
)
# Other international numbers written with a leading "+": 7-15 digits.
_PHONE_INTL = re.compile(r"(?<![\w])\+\d{1,3}(?:[\s-]?\d){6,14}(?![\w])")

# Words that follow "passordet er" without being the password.
_PASSWORD_WORDS_NOT_SECRETS = {
    "?",
    "og",
    "and",
    "for",
    "til",
    "på",
    "er",
    "ikke",
    "ikkje",
    "utløpt",
    "utgått",
    "feil",
    "riktig",
    "rett",
    "låst",
    "sperret",
    "gammelt",
    "nytt",
    "borte",
    "glemt",
    "kort",
    "langt",
    "ugyldig",
    "expired",
    "wrong",
    "invalid",
    "blokkert",
    "endret",
    "byttet",
    "det",
    "den",
    "jo",
    "visst",
    "også",
    "helt",
    "snart",
    "allerede",
}


def valid_fodselsnummer(digits: str) -> bool:
    """True for an 11-digit number with valid mod-11 check digits (also D-numbers)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    numbers = [int(d) for d in digits]
    k1 = 11 - sum(w * n for w, n in zip(_WEIGHTS_1, numbers[:9], strict=True)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(w * n for w, n in zip(_WEIGHTS_2, numbers[:10], strict=True)) % 11
    k2 = 0 if k2 == 11 else k2
    return k1 == numbers[9] and k2 == numbers[10] and k1 != 10 and k2 != 10


def _mask_fnr(match: re.Match[str]) -> str:
    return FNR_MASK if valid_fodselsnummer(match.group(1) + match.group(2)) else match.group(0)


def _mask_password(match: re.Match[str]) -> str:
    secret = match.group(3)
    if secret.lower().strip(".,!?") in _PASSWORD_WORDS_NOT_SECRETS:
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}{PASSWORD_MASK}"


def mask_text(text: str) -> str:
    """The text with personal data replaced by Norwegian placeholders."""
    if not text:
        return text
    text = _FNR_CANDIDATE.sub(_mask_fnr, text)
    text = _PASSWORD.sub(_mask_password, text)
    text = _PHONE_INTL.sub(PHONE_MASK, text)
    text = _PHONE_NO.sub(PHONE_MASK, text)
    return text
