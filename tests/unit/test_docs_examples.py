"""The codes the documentation shows are ones the services accept: every 统一社会信用代码 in the
README and docs/ has its GB 32100 check character (a reader copies them into requests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.identifiers import credit_code_problem

REPO = Path(__file__).resolve().parents[2]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# an 18-character code of the credit-code alphabet starting with a registration authority code (9 = industry and commerce)
CREDIT_CODE = re.compile(r"(?<![0-9A-Z])9[1-3][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_credit_code_in_the_docs_is_valid(document: Path) -> None:
    wrong = {code: problem for code in CREDIT_CODE.findall(document.read_text(encoding="utf-8")) if (problem := credit_code_problem(code))}
    assert wrong == {}
