"""Mask personal data in free text before anything stores it.

Applied where a message enters Rakel (the channel classes in bot/channels/), so the
tracker store, logs and tickets only ever see the masked text; tickets mask again
what they store. One rule per kind, below:

- fødselsnummer and D-nummer (11 digits),
- bank account numbers (11 digits),
- payment card numbers (13-19 digits),
- Norwegian phone numbers (8 digits, with or without +47 / 0047) and other
  international numbers written with a leading "+",
- passwords, PINs and passphrases.

Numbers are found as runs of digit groups joined by one separator (space, non-breaking
space, dot, dash, en dash, or a dash between spaces), however the user grouped them.
A run is judged by its digit count, its check digits and the nearest keyword before
it on the same line: "fnr", "kontonr", "tlf" say what a number is (so a fødselsnummer
with a typo in the check digits is still masked), "sak", "ordre", "faktura", "feilkode"
say it is not personal. IT messages are full of numbers (tickets, dates, versions,
error codes, IP addresses, order numbers, one-time codes), so without a keyword a
number is masked only when its shape and check digits make it personal.

E-mail addresses are kept: users give them as contact for their case (see "Personal
data" in docs/security.md); retention deletes them with the rest.

Hand-written rules: no maintained library recognises Norwegian fødselsnummer, account
numbers and the ways people write passwords in Bokmål and Nynorsk.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

FNR_MASK = "[fødselsnummer fjernet]"
ACCOUNT_MASK = "[kontonummer fjernet]"
CARD_MASK = "[kortnummer fjernet]"
PHONE_MASK = "[telefonnummer fjernet]"
PASSWORD_MASK = "[passord fjernet]"  # noqa: S105 - the mask, not a password


@dataclass(frozen=True, order=True)
class _Span:
    start: int
    end: int
    mask: str


# --- check digits ---------------------------------------------------------------
_FNR_WEIGHTS_1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_FNR_WEIGHTS_2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_ACCOUNT_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 check digit for `digits`, or None where none exists (remainder 1)."""
    check = 11 - sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11
    return 0 if check == 11 else None if check == 10 else check


def valid_fodselsnummer(digits: str) -> bool:
    """True for 11 digits with valid mod-11 check digits (also D-numbers)."""
    if len(digits) != 11 or not digits.isdigit():
        return False
    return _mod11(digits[:9], _FNR_WEIGHTS_1) == int(digits[9]) and _mod11(
        digits[:10], _FNR_WEIGHTS_2
    ) == int(digits[10])


def plausible_birth_date(digits: str) -> bool:
    """ddmmyy as a fødselsnummer starts: D-numbers add 40 to the day, H-numbers 40 to
    the month."""
    day, month = int(digits[:2]), int(digits[2:4])
    day -= 40 if day > 40 else 0
    month -= 40 if month > 40 else 0
    return 1 <= day <= 31 and 1 <= month <= 12


def valid_account_number(digits: str) -> bool:
    """Norwegian bank account: 11 digits, the last a mod-11 check digit."""
    return (
        len(digits) == 11
        and digits.isdigit()
        and _mod11(digits[:10], _ACCOUNT_WEIGHTS) == int(digits[10])
    )


def valid_luhn(digits: str) -> bool:
    """Payment card numbers end in a Luhn check digit."""
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


# --- keywords before a number -----------------------------------------------------
# The nearest of these before a number (same line, NUMBER_CONTEXT characters) says
# what the number is. Alternatives are tried in order, so compounds of "nummer" such
# as "kontonummer" or "saksnummer" are classified before the generic phone words.
_CONTEXT = re.compile(
    r"""(?ix)(?<!\w)(?:
      (?P<fnr>f\.?\s?nr|fnr|fødsels?n(?:r|ummer\w*)|person(?:n(?:r|ummer\w*)|alnummer\w*)
        |pers\.?\s?nr|d[-\s]?n(?:r|ummer\w*))
    | (?P<account>\w*konto(?!r)\w*|kto|kontonr)
    | (?P<card>\w*kort(?:et|nr|nummer\w*)?|visa\w*|mastercard|master|amex|card)
    | (?P<other>\w*sak\w*|\w*ordre\w*|bestilling\w*|bestillingsnr|tinging\w*|faktura\w*
        |ref|inc|ticket|org\.?\s?nr|orgnr|organisasjons\w*|sporing\w*|serie\w*|s/n
        |inventar\w*|intern\w*|linje|\w*møte-?id\w*|meeting|id|build|bygg|versjon\w*
        |version|\w*kode\w*|code|feil\w*|error|ip|port|vlan|kb|kr|nok|beløp|rom|dato)
    | (?P<phone>tlf\w*|\w*telefon\w*|mob\w*|\w*mobil\w*|ring\w*|nås|nr|\w*nummer\w*|sms
        |kontakt\w*|sim|whatsapp|signal)
    )(?!\w)""",
)
NUMBER_CONTEXT = 40
# A number right after these is where something was sent ("koden kom til 912 34 567"),
# so a preceding "kode" does not make it a one-time code.
_DESTINATION = re.compile(r"(?i)(?:^|\s)(?:på|til|fra|frå)\s*$")

# A keyword in an earlier sentence says nothing: "... er feil. Riktig: 93 86 86 77".
_SENTENCE_END = re.compile(r"[?!]\s|\.\s+(?=[A-ZÆØÅ])")


def _context(text: str, start: int) -> str | None:
    line = text.rfind("\n", 0, start) + 1
    before = text[max(line, start - NUMBER_CONTEXT) : start]
    before = _SENTENCE_END.split(before)[-1]
    kind = None
    for match in _CONTEXT.finditer(before):
        kind = match.lastgroup
    if kind == "other" and _DESTINATION.search(before):
        return None
    return kind


# --- numbers: runs of digit groups -----------------------------------------------
_SEPARATOR = r"(?:[ \u00a0\u202f.\-–]|\s[-–]\s)"
# Not glued to letters or other digits: "INC0012873", "0x80070005", "PC-004512" and
# "Temp-4471-xy" are identifiers, never personal numbers.
_NUMBER = re.compile(rf"(?<![\w])(?<![^\W\d_]-)\d+(?:{_SEPARATOR}\d+)*(?![\w])(?!-[^\W\d_])")
# "+47 912 34 567", "(+47) 91234567", "004791234567": the prefix says it is a phone number.
_PHONE_NO_PREFIXED = re.compile(
    r"(?<![\w+])\(?(?:\+|00)\s?47\)?[ \u00a0.\-]?(?P<number>\d(?:[ \u00a0.\-]?\d){7})(?![\d])"
)
# Other international numbers written with a leading "+": 7-15 digits.
_PHONE_INTL = re.compile(r"(?<![\w+])\+(?!47)\d{1,3}(?:[ \u00a0.\-]?\d){6,14}(?![\w])")

# How people group 8-digit phone numbers: 91234567, 9123 4567, 912 34 567, 91 23 45 67.
_PHONE_GROUPS = {(8,), (4, 4), (3, 2, 3), (2, 2, 2, 2)}
# 11 digits as a fødselsnummer: 01017012345, 010170 12345, 01 01 70 12345, 010 170 12345.
_FNR_GROUPS = {(11,), (6, 5), (2, 2, 2, 5), (3, 3, 5)}
# 11 digits as a bank account: 12345678903, 1234 56 78903 (also with dots).
_ACCOUNT_GROUPS = {(11,), (4, 2, 5)}


def _groups(run: str) -> tuple[tuple[int, ...], str]:
    parts = re.findall(r"\d+", run)
    return tuple(len(p) for p in parts), "".join(parts)


def _phone(digits: str, groups: tuple[int, ...], run: str, context: str | None) -> bool:
    """8 digits: mobiles start with 4 or 9 and are masked unless a keyword says the
    number is something else; landlines (2, 3, 5, 6, 7) only after a phone keyword.
    Dotted groups look like IP addresses and versions: only after a phone keyword."""
    if len(digits) != 8 or groups not in _PHONE_GROUPS:
        return False
    if context == "phone":
        return digits[0] in "2345679"
    if context == "other" or "." in run:
        return False
    return digits[0] in "49"


def _eleven(digits: str, groups: tuple[int, ...], context: str | None) -> str | None:
    """11 digits: fødselsnummer or account number when a keyword says so, whatever the
    check digits (a typo is still personal); otherwise when the check digits and
    grouping fit, unless a keyword says it is an order, tracking or invoice number
    (those are 11 digits too)."""
    if context == "fnr":
        return FNR_MASK
    if context == "account":
        return ACCOUNT_MASK
    # Check digits and a birth date together are evidence enough, whatever the keyword.
    if groups in _FNR_GROUPS and valid_fodselsnummer(digits) and plausible_birth_date(digits):
        return FNR_MASK
    if context == "other":
        return None
    if groups in _ACCOUNT_GROUPS and valid_account_number(digits):
        return ACCOUNT_MASK
    return None


def _card(digits: str, groups: tuple[int, ...], context: str | None) -> bool:
    """13-19 digits: after a card keyword always; otherwise grouped in fours (or not
    at all) with a valid Luhn digit. Meeting ids and tracking numbers are long too."""
    if not 13 <= len(digits) <= 19 or context == "other":
        return False
    if context == "card":
        return True
    in_fours = all(g == 4 for g in groups[:-1]) and 1 <= groups[-1] <= 4
    return (len(groups) == 1 or in_fours) and valid_luhn(digits)


def _number_spans(text: str) -> Iterator[_Span]:
    for match in _PHONE_NO_PREFIXED.finditer(text):
        yield _Span(match.start(), match.end(), PHONE_MASK)
    for match in _PHONE_INTL.finditer(text):
        yield _Span(match.start(), match.end(), PHONE_MASK)
    for match in _NUMBER.finditer(text):
        run = match.group(0)
        groups, digits = _groups(run)
        context = _context(text, match.start())
        mask = None
        if _phone(digits, groups, run, context):
            mask = PHONE_MASK
        elif len(digits) == 11:
            mask = _eleven(digits, groups, context)
        elif _card(digits, groups, context):
            mask = CARD_MASK
        if mask:
            yield _Span(match.start(), match.end(), mask)


# --- passwords ---------------------------------------------------------------------
# Words that name a secret: passord (also misspelt, Nynorsk and English), passfrase,
# kodeord, PIN and PIN codes, in compounds too ("wifi-passordet", "bitlocker-pinen").
_PASSWORD_WORD = re.compile(
    r"""(?ix)(?<![\w])(?:[^\W\d_]+-)?(?:
      \w*pas{1,2}(?:w?or|ro|wo?r)d\w*     # passord, passordet, pasord, passrod, password
    | passwd | pwd | pw
    | \w*pass(?:frase|phrase)\w*
    | \w*kodeord\w*
    | pin(?:-?kode\w*|-?en|-?koden)?     # pin, PIN-en, pinen, pinkoden, pin-kode
    | \w*(?:skjermsparer|skjermlås|låse|alarm)kode\w*
    )(?!\w)"""
)
# Plain "kode" is a secret only when it is the user's own ("koden min", "kode til pc-en");
# "koden var 582913" is a one-time code being read out.
_CODE_WORD = re.compile(r"(?i)(?<![\w-])koden?(?=\s+(?:min|mi|mitt)\b|\s+til\s)")
PASSWORD_WINDOW = 8  # words after the keyword that may hold the secret
# How a secret is introduced: "passordet mitt er X", "passord: X", "pw=X", "vart X".
_INTRODUCER = re.compile(
    r"(?i)(?P<between>(?:\s+(?!(?:og|men|eller|at|som|når|fordi|så|om|and|but)\s)[^\s,.;!?:=]+){0,4}?)"
    r"(?:\s+(?:er|e|var|vart|ble|blei|blir|vert)(?:\s+(?:nå|no|endra|endret|satt)(?:\s+til)?)?\s+"
    r"|\s*[:=]\s*)"
)
# What follows "passordet er" without being the password: "passordet mitt er utløpt".
_NOT_SECRETS = frozenset(
    """
    ? - – og men eller for til på i a en et ett er ikke ikkje ingen ute inne utløpt utgått
    gått gammelt gamalt nytt nye feil riktig rett galt låst sperret sperra blokkert borte
    glemt gløymt kort langt lang ugyldig expired wrong invalid endret endra byttet bytta
    satt tilbakestilt nullstilt resatt reset det den dette jo visst også helt snart allerede
    alt samme same likt lik brukt godkjent godtatt avvist ok greit fint klart slutt ferdig
    enkelt vanskeleg vanskelig bra dårlig svakt sterkt sikkert usikkert skrevet skrive
    lagret lagra lagt sendt sett kjent ukjent hemmelig privat personlig mitt min mi mine vel
    nok kanskje bare berre dessverre fortsatt framleis enno ennå
    """.split()
)
_QUOTED = re.compile(r"[\"“«‘'](?P<secret>[^\"”»’'\n]{1,80})[\"”»’']")
_AFTER_QUOTE = re.compile(r"(?i)\s+som\s+(?:\w+\s+)?(?:passord|passfrase|passphrase|pin)")
_BEFORE_SOM = re.compile(r"(\S+)\s+som\s+(?:\w+\s+)?(?:passord|passfrase|passphrase|pin)\b", re.I)
# Tokens that look like secrets: letters with digits or symbols ("Sommer2024!", "Kj3ks&Te").
_SYMBOLS = set("!@#$%&*_+=?§/\\^~|<>€£")
# ...but are IT identifiers: error codes, KB articles, ticket and asset numbers, versions,
# and e-mail addresses (kept as contact data).
_IDENTIFIER = re.compile(
    r"^(?:0[xX][0-9a-fA-F]+|[kK][bB]\d+|[A-Z]{2,}[-\d]*\d|\d+[hH]\d|[vV]?\d+(?:\.\d+)+"
    r"|[^@\s]+@[^@\s]+\.\w+|https?://\S+|www\.\S+)$"
)
_TOKEN = re.compile(r"\S+")
_QUOTES = "\"'«“‘"
_STRIP_LEFT = _QUOTES + "([:="
_STRIP_RIGHT = "\"'»”’)],.;:?"
_CLAUSE_END = re.compile(r"[,.;!?\n]|\s(?:og|men|eller|but|and|or)\s|\s[-–]\s")


def _looks_like_secret(token: str, pin: bool) -> bool:
    if len(token) < 4:
        return False
    if pin and token.isdigit():
        return len(token) <= 8
    if _IDENTIFIER.match(token):
        return False
    has_letter = any(c.isalpha() for c in token)
    # A trailing "!" ends a sentence ("takk for hjelpen!"); inside, it is a symbol.
    symbols = any(c in _SYMBOLS for c in token.rstrip("!"))
    return has_letter and (any(c.isdigit() for c in token) or symbols)


def _tokens(text: str, start: int, limit: int) -> Iterator[tuple[int, int, str]]:
    """Up to `limit` words from `start` on the same line, stripped of quotes and
    trailing punctuation: (start, end, word)."""
    end_of_line = text.find("\n", start)
    segment_end = len(text) if end_of_line == -1 else end_of_line
    for i, match in enumerate(_TOKEN.finditer(text, start, segment_end)):
        if i >= limit:
            return
        word = match.group(0)
        left = len(word) - len(word.lstrip(_STRIP_LEFT))
        stripped = word.strip(_STRIP_LEFT).rstrip(_STRIP_RIGHT)
        if stripped:
            yield match.start() + left, match.start() + left + len(stripped), stripped


def _password_spans(text: str) -> Iterator[_Span]:
    keywords = [(m, True) for m in _PASSWORD_WORD.finditer(text)]
    keywords += [(m, False) for m in _CODE_WORD.finditer(text)]
    for keyword, named in keywords:
        pin = named and "pin" in keyword.group(0).lower()
        after = keyword.end()
        # 1. A secret-looking word soon after the keyword: "passord Hund123",
        #    "satte passordet til Vinter2026#", "passordene A1! og B2!".
        for start, end, word in _tokens(text, after, PASSWORD_WINDOW):
            if _looks_like_secret(word, pin):
                yield _Span(start, end, PASSWORD_MASK)
        # 2. Introduced plainly: "passordet mitt er tre små kinesere", "passfrase: fire
        #    katter danser tango", "pinkoden min er 8264".
        introduced = _INTRODUCER.match(text, after)
        if introduced:
            yield from _introduced_secret(text, introduced.end(), pin)
        # 3. Quoted near the keyword: «korrekt hest batteri stift».
        window_end = min(len(text), after + 80)
        for quoted in _QUOTED.finditer(text, after, window_end):
            if text.count("\n", after, quoted.start()) == 0:
                yield _Span(quoted.start("secret"), quoted.end("secret"), PASSWORD_MASK)
                break
    # 4. Named after the fact: "brukte Bakeri2026! som passord", "«...» som passord".
    for quoted in _QUOTED.finditer(text):
        if _AFTER_QUOTE.match(text, quoted.end()):
            yield _Span(quoted.start("secret"), quoted.end("secret"), PASSWORD_MASK)
    for match in _BEFORE_SOM.finditer(text):
        word = match.group(1).strip(_STRIP_LEFT).rstrip(_STRIP_RIGHT)
        if _looks_like_secret(word, pin=False):
            start = match.start(1) + match.group(1).find(word)
            yield _Span(start, start + len(word), PASSWORD_MASK)


def _introduced_secret(text: str, start: int, pin: bool) -> Iterator[_Span]:
    first = next(_tokens(text, start, 1), None)
    if first is None:
        return
    first_start, first_end, word = first
    if word.lower() in _NOT_SECRETS:
        return
    if first_start > 0 and text[first_start - 1] in _QUOTES:
        return  # quoted: rule 3 masks the whole quotation
    if _looks_like_secret(word, pin) or pin or word.isdigit():
        yield _Span(first_start, first_end, PASSWORD_MASK)
        return
    # A plain word: the secret may be several words ("tre små kinesere"), up to the end
    # of the clause.
    clause_end = _CLAUSE_END.search(text, first_start)
    end = clause_end.start() if clause_end else len(text)
    end = first_start + len(text[first_start:end].rstrip(_STRIP_RIGHT + " "))
    yield _Span(first_start, max(end, first_end), PASSWORD_MASK)


# --- putting it together ----------------------------------------------------------
# Text is masked more than once (at the channel, again when a ticket stores it): what
# an earlier pass put in is never taken for a secret ("passord: [passord fjernet]").
_MASKS = re.compile(
    "|".join(re.escape(m) for m in (FNR_MASK, ACCOUNT_MASK, CARD_MASK, PHONE_MASK, PASSWORD_MASK))
)


def _apply(text: str, spans: list[_Span]) -> str:
    """Replace the spans, earliest first; a span overlapping an earlier one or a mask
    already in the text is dropped."""
    masked = [(m.start(), m.end()) for m in _MASKS.finditer(text)]
    out, position = [], 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < position or any(
            span.start < end and start < span.end for start, end in masked
        ):
            continue
        out += [text[position : span.start], span.mask]
        position = span.end
    out.append(text[position:])
    return "".join(out)


MAX_PASSES = 4


def _mask_once(text: str) -> str:
    # The rules read a copy in which earlier masks are one neutral word, so their
    # words ("passord", "telefonnummer") are not taken for keywords.
    view = _MASKS.sub(lambda m: "X" * len(m.group(0)), text)
    return _apply(text, [*_number_spans(view), *_password_spans(view)])


def mask_text(text: str) -> str:
    """The text with personal data replaced by Norwegian placeholders.

    Repeated until nothing changes (at most MAX_PASSES), so masking masked text again
    changes nothing: one mask can make a neighbour stand on its own ("passord: 912
    91234567" is one 11-digit run until the first part is masked).
    """
    for _ in range(MAX_PASSES):
        masked = _mask_once(text) if text else text
        if masked == text:
            break
        text = masked
    return text
