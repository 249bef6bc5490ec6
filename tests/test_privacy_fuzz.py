"""The masker on generated text: it never fails, and a second pass changes nothing
(tickets mask again what the channel masked)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.privacy import mask_text

# Words the rules react to, numbers in many groupings, separators and quotes.
WORDS = st.sampled_from(
    "passord passordet: pw= PIN-koden er mitt min til som og, men kode koden fnr d-nr "
    "kontonr kort visa tlf mobil ring sak ordre feilkode IP +47 0047 (+47) « » \" ' : = - – . "
    "Sommer2026! Hest123 tre små 912 34 567 91234567 4123-4567 15076500565 150765 00565 "
    "1234.56.78903 4111 1111 1111 1111 0x80070005 PC-004512 10.20.30.40 01.12.2026 "
    "[passord fjernet] [telefonnummer fjernet] \u00a0 \n".split(" ")
)
TEXTS = st.one_of(
    st.lists(WORDS, max_size=30).map(" ".join),
    st.lists(WORDS, max_size=30).map("".join),
    st.text(max_size=200),
)


@settings(
    max_examples=1500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(text=TEXTS)
def test_masking_never_fails_and_is_stable(text):
    once = mask_text(text)
    assert isinstance(once, str)
    assert mask_text(once) == once
