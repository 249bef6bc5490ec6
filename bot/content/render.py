"""What users read of an article: the answer with contact details filled in, and its
source line."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from bot.content.articles import Article, placeholders_in
from bot.content.files import ContentError

if TYPE_CHECKING:
    from bot.settings import Settings

# ---------------------------------------------------------------------------
# CONTENT: user-facing Norwegian wording of the source line under an answer.
# "{sections}" becomes e.g. "2.1.1 Kundeservice og 2.1.3.5 Digital dialog".
# The report is cited only for what it says: an answer wholly drawn from the report
# names it as the source; an answer that mixes report facts with our own advice
# says which part is from the report and that the advice is general guidance, so
# the steps do not borrow the report's authority. Pure general guidance gets no line.
SOURCE_LINE_TEMPLATE = "Kilde: ROR-IKT årsrapport 2020, kap. {sections}"
MIXED_SOURCE_LINE_TEMPLATE = (
    "Tall og fakta er fra ROR-IKT årsrapport 2020, kap. {sections}. Rådene er generell veiledning."
)
SOURCE_SECTION_SEPARATOR = ", "
SOURCE_SECTION_LAST_SEPARATOR = " og "
# ---------------------------------------------------------------------------


class KnowledgeBase:
    """Validated articles plus the contact details their placeholders refer to."""

    def __init__(
        self, articles: Mapping[str, Article] | Iterable[Article], contacts: Mapping[str, str]
    ) -> None:
        items = articles.values() if isinstance(articles, Mapping) else articles
        self._articles: dict[str, Article] = {}
        for article in items:
            if article.id in self._articles:
                raise ContentError(f"duplicate article id {article.id!r}")
            self._articles[article.id] = article
        self._contacts = dict(contacts)
        for article in self._articles.values():
            missing = sorted(set(placeholders_in(article.answer)) - set(self._contacts))
            if missing:
                raise ContentError(
                    f"article {article.id!r} uses {{{missing[0]}}}, which has no contact value"
                )

    @classmethod
    def from_settings(cls, settings: Settings) -> KnowledgeBase:
        from bot.content.catalogue import catalogue

        return cls(catalogue(settings.knowledge_dir).articles, settings.contacts)

    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    @property
    def articles(self) -> Mapping[str, Article]:
        return dict(self._articles)

    def get(self, article_id: str) -> Article | None:
        return self._articles.get(article_id)

    def render(self, article: Article) -> str:
        """The answer with every placeholder filled from the contact details."""
        return article.answer.format_map(self._contacts).strip()

    def source_line(self, article: Article) -> str | None:
        """ "Kilde: …" for answers wholly from the report, "Tall og fakta er fra …" for
        answers mixing report facts with general guidance, None for pure guidance."""
        sections = list(article.report_sections)
        if not sections:
            return None
        if len(sections) == 1:
            joined = sections[0]
        else:
            joined = (
                SOURCE_SECTION_SEPARATOR.join(sections[:-1])
                + SOURCE_SECTION_LAST_SEPARATOR
                + sections[-1]
            )
        template = MIXED_SOURCE_LINE_TEMPLATE if article.general_guidance else SOURCE_LINE_TEMPLATE
        return template.format(sections=joined)

    def titles(self) -> dict[str, str]:
        """Article id -> title, sorted by id."""
        return {key: self._articles[key].title for key in sorted(self._articles)}

    def by_topic(self, topic: str) -> list[Article]:
        """The articles of one topic, sorted by id."""
        return sorted((a for a in self._articles.values() if a.topic == topic), key=lambda a: a.id)
