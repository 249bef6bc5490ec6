"""The masking rules, one kind at a time, on phrasings beyond the corpora."""

from __future__ import annotations

import pytest

from bot.privacy import (
    ACCOUNT_MASK,
    CARD_MASK,
    FNR_MASK,
    PASSWORD_MASK,
    PHONE_MASK,
    mask_text,
    valid_account_number,
    valid_fodselsnummer,
    valid_luhn,
)

# Made up, with valid check digits (a fødselsnummer and a D-number: day + 40).
FNR = "15076500565"
D_NUMBER = "41018012365"


def test_check_digit_helpers():
    assert valid_fodselsnummer(FNR)
    assert not valid_fodselsnummer("15076500566")
    assert valid_account_number("12345678903")
    assert not valid_account_number("12345678904")
    assert valid_luhn("4111111111111111")
    assert not valid_luhn("4111111111111112")


@pytest.mark.parametrize(
    "text",
    [
        f"fnr {FNR[:6]} {FNR[6:]}",
        f"fødselsnummer {FNR[:2]}.{FNR[2:4]}.{FNR[4:6]}.{FNR[6:]}",
        f"personnummeret er {FNR[:6]}\u00a0{FNR[6:]}",
        f"{FNR[:6]}-{FNR[6:]} er meg",  # no keyword: valid check digits and a date
        "fnr 150765 00566",  # a typo in the check digits, but the keyword says what it is
        f"D-nr: {D_NUMBER[:6]} {D_NUMBER[6:]}",
        f"han har {D_NUMBER}",
        "fødselsnr: 150 765 00565",
    ],
)
def test_fodselsnummer_in_any_grouping(text):
    masked = mask_text(text)
    assert FNR_MASK in masked
    assert not any(ch.isdigit() for ch in masked.replace(FNR_MASK, "")), masked


@pytest.mark.parametrize(
    "text,expected",
    [
        ("ring meg på 412 34 567", f"ring meg på {PHONE_MASK}"),
        ("mobil: 4123 4567", f"mobil: {PHONE_MASK}"),
        ("+47 41 23 45 67 er nummeret", f"{PHONE_MASK} er nummeret"),
        ("tlf 0047 912 34 567.", f"tlf {PHONE_MASK}."),
        ("sentralbord tlf. 71 11 10 00", f"sentralbord tlf. {PHONE_MASK}"),
        ("ring +46 70 123 45 67 (Sverige)", f"ring {PHONE_MASK} (Sverige)"),
    ],
)
def test_phone_numbers(text, expected):
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "text,secrets",
    [
        ("passordet mitt er Hemmelig!42", ["Hemmelig!42"]),
        ("Passordet mitt er no Fjellvatn7 og PIN-koden er 4417", ["Fjellvatn7", "4417"]),
        ("passordet til Teams er Laks2026 og til Visma Torsk2026", ["Laks2026", "Torsk2026"]),
        ('passfrasen er "grønn stol under bordet"', ["grønn stol under bordet"]),
        ("mitt passord er sommerfugl", ["sommerfugl"]),
        ("eg brukar Kvitveis#9 som passord", ["Kvitveis#9"]),
        ("pw: a1b2c3d4", ["a1b2c3d4"]),
    ],
)
def test_passwords_in_all_phrasings(text, secrets):
    masked = mask_text(text)
    assert PASSWORD_MASK in masked
    for secret in secrets:
        assert secret not in masked, masked


def test_several_passwords_keep_the_words_around_them():
    assert mask_text("gammelt passord: Eple12! nytt passord: Pære34!") == (
        f"gammelt passord: {PASSWORD_MASK} nytt passord: {PASSWORD_MASK}"
    )


def test_bank_account_and_card_numbers():
    assert mask_text("kontonummer 1234.56.78903") == f"kontonummer {ACCOUNT_MASK}"
    assert mask_text("refusjon til 1234 56 78903") == f"refusjon til {ACCOUNT_MASK}"
    assert mask_text("kortet 4111 1111 1111 1111 er sperret") == f"kortet {CARD_MASK} er sperret"
    assert mask_text("betalte med 4111-1111-1111-1111") == f"betalte med {CARD_MASK}"


@pytest.mark.parametrize(
    "text",
    [
        "passordet mitt er utløpt",
        "passordet ditt må ha minst 14 tegn",
        "Passordet er feil, sier Outlook",
        "jeg har byttet passord og nå er kontoen låst",
        "koden var 418 220, men den ble avvist",
        "Engangskoden 731904 kom for sent",
        "sak 20264417 er ikke løst",
        "ordrenummer 20267408442 er ikke levert",
        "feilkode 80180014 ved innrullering",
        "Skriveren har IP 92.68.12.34",
        "org.nr 974 760 673",
        "Teams 24215.1007.3082.1590 henger",
        "Møte-ID 364 918 205 447",
        "Fakturanr 2026118803",
        "Send svar til kari.nordmann@molde.kommune.no",
        "PC-004512 og INC0012873, KB5034441, 0x80070005",
        "Backup 01.12.2026 kl. 03:12 feilet, neste 2026-12-02",
    ],
)
def test_it_numbers_and_password_talk_stay(text):
    assert mask_text(text) == text


def test_email_addresses_are_contact_data_and_kept():
    text = "Passordet mitt er Sol2026!, svar til ola.nordmann@aukra.kommune.no"
    assert mask_text(text) == (
        f"Passordet mitt er {PASSWORD_MASK}, svar til ola.nordmann@aukra.kommune.no"
    )
