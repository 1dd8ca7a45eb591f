"""The documents an agency files are PDF/A-2u, as veraPDF (the archival validator, from Maven Central) judges them.

veraPDF is resolved by ``services/assessment/documents/verapdf.sh`` with mvn, as the broker's jars are
(the first run takes about a minute).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from services.assessment.adapters.documents import render_notice_pdf, render_report_pdf
from shared.contracts import Flag
from tests.unit.assessment.test_documents import make_report, make_result

VERAPDF = Path(__file__).resolve().parents[2] / "services" / "assessment" / "documents" / "verapdf.sh"


def test_the_report_and_the_notice_pass_veraPDF_as_pdfa_2u(tmp_path: Path) -> None:
    report = make_report(name="乡宁县示例水泥有限公司（𬌗龘𪚥）")  # a character outside the font prints as 〓 with a note
    result = make_result(report, flags=[Flag(code="publicity_short", message="公示不足5个工作日（2023年6月2日至6月8日）")])
    files = []
    for name, pdf in (("report.pdf", render_report_pdf(report, result)), ("notice.pdf", render_notice_pdf(report, result))):
        (tmp_path / name).write_bytes(pdf)
        files.append(str(tmp_path / name))
    done = subprocess.run([str(VERAPDF), "--flavour", "2u", "--format", "text", *files], capture_output=True, text=True, timeout=900)
    assert done.stdout.count("PASS ") == 2, done.stdout + done.stderr
