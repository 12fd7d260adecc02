"""The gettext catalogs: complete, not fuzzy, compiled from their current text, holding every
message the code and templates ask for; every refused operation has words."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from ingest.error_texts import BY_CODE, MESSAGES
from ingest.i18n import LABELS, LANGUAGES, TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ingest"
#: The same extraction as ``make i18n-extract`` (babel.cfg, keywords _l and N_).
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "N_": None}


def catalog(language: str):
    with (TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.fixture(scope="module")
def extracted() -> set[str]:
    found = set()
    for _name, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), METHODS, keywords=KEYWORDS, comment_tags=()
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_babel_cfg_is_what_this_test_extracts_with():
    text = (ROOT / "babel.cfg").read_text()
    assert "[python: **.py]" in text and "[jinja2: templates/**.html]" in text
    assert "-k _l -k N_" in (ROOT / "Makefile").read_text()


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_message_is_translated_and_none_is_fuzzy(language):
    messages = [m for m in catalog(language) if m.id]
    assert messages
    untranslated = [m.id for m in messages if not m.string or not all(m.string)]
    fuzzy = [m.id for m in messages if m.fuzzy]
    assert untranslated == [] and fuzzy == []
    assert not catalog(language).fuzzy


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_placeholder_survives_translation(language):
    for message in catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\([a-z_]+\)[sd]", ids[-1]))
        for text in strings:
            assert set(re.findall(r"%\([a-z_]+\)[sd]", text)) <= wanted | set(
                re.findall(r"%\([a-z_]+\)[sd]", ids[0])
            ), (language, message.id)
            assert wanted - {"%(num)d"} <= set(re.findall(r"%\([a-z_]+\)[sd]", text)), (
                language,
                message.id,
            )


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_compiled_catalog_is_the_current_text(language):
    """The committed .mo equals what `make i18n-compile` makes of the .po."""
    fresh = io.BytesIO()
    write_mo(fresh, catalog(language))
    fresh.seek(0)
    mo_path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.mo"
    with mo_path.open("rb") as handle:
        committed = read_mo(handle)
    assert _pairs(committed) == _pairs(read_mo(fresh)), "run make i18n-compile"


def _pairs(compiled) -> set:
    def frozen(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    return {(frozen(m.id), frozen(m.string)) for m in compiled if m.id}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_message_the_code_asks_for_is_in_the_catalog(extracted, language):
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog(language)}
    assert extracted - known == set(), "run make i18n, then translate"


def test_every_stored_code_shown_to_people_has_words(extracted):
    for kind, words in LABELS.items():
        assert set(words.values()) <= extracted, kind


def _domain_errors() -> list[tuple[str, str | None]]:
    """(code, fixed message or None) of every DomainError raised in ingest/."""
    found = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "DomainError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                message = node.args[1] if len(node.args) > 1 else None
                fixed = message.value if isinstance(message, ast.Constant) else None
                found.append((node.args[0].value, fixed))
    return found


def test_every_refused_operation_has_words_for_people():
    errors = _domain_errors()
    assert len(errors) > 50
    for code, fixed in errors:
        assert fixed in MESSAGES or code in BY_CODE, (code, fixed)
