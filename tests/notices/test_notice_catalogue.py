"""The catalogue's notice services and e-mail domains: declared once, checked on load."""

from __future__ import annotations

import shutil

import pytest
import yaml

from bot.content.catalogue import KNOWLEDGE_DIR, Catalogue
from bot.content.files import ContentError


def load_with(tmp_path, change):
    shutil.copytree(KNOWLEDGE_DIR, tmp_path / "knowledge")
    path = tmp_path / "knowledge" / "catalogue.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return Catalogue.load(tmp_path / "knowledge")


def test_the_issues_services_are_declared():
    content = Catalogue.load()
    labels = [s.label for s in content.notice_services.values()]
    assert labels == [
        "Teams",
        "E-post",
        "Microsoft 365-pålogging/tofaktor",
        "VPN/hjemmekontor",
        "Nett/wifi",
        "Telefoni",
        "Visma",
        "Fagsystem",
        "Alle systemer",
    ]
    assert content.notice_services["m365_login"].concerns("two_factor")
    assert content.notice_services["all"].concerns("pc_replacement")
    assert not content.notice_services["teams"].concerns("pc_replacement")


def test_a_service_naming_an_unknown_topic_is_refused(tmp_path):
    def change(data):
        data["notice_services"]["teams"]["topics"] = ["teamz"]

    with pytest.raises(ContentError, match="unknown topic 'teamz'"):
        load_with(tmp_path, change)


def test_a_domain_of_an_unknown_municipality_is_refused(tmp_path):
    def change(data):
        data["email_domains"]["oslo.kommune.example"] = "Oslo"

    with pytest.raises(ContentError, match="unknown municipality 'Oslo'"):
        load_with(tmp_path, change)


@pytest.mark.parametrize(
    "address,municipality",
    [
        ("kari@molde.kommune.example", "Molde"),
        ("Ola.Nordmann@AUKRA.kommune.example", "Aukra"),
        ("kari@molde.kommune.example.evil", None),
        ("molde.kommune.example", None),
        (None, None),
    ],
)
def test_the_address_domain_names_the_municipality(address, municipality):
    assert Catalogue.load().municipality_of_address(address) == municipality
