"""The case-file review (案卷评查) as an .xlsx workbook: sheet 案卷 (one row per case, with its flags)
and sheet 时间线 (one row per step)."""

from __future__ import annotations

import io
from typing import Any

from shared.xlsx import append  # text cleaned, formula-like text written as text


def review_workbook(files: list[dict[str, Any]]) -> bytes:
    """``files`` as ``views.case_files`` gives them."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "案卷"
    append(sheet, ["行政行为码 case_code", "案件编号 case_id", "统一社会信用代码 credit_code", "行政区划 region_code", "违法事项 item_code",
                  "发现日期 found_on", "危害后果 harm", "重大违法 major", "程序 procedure", "状态 status", "决定 decision",
                  "整改期限 deadline", "裁量下限 proposed_min_yuan", "裁量上限 proposed_max_yuan", "罚款 fine_yuan",
                  "偏离理由 departure_reason", "问题 flags"])
    for f in files:
        low, high = f["proposed_fine_range"] or (None, None)
        append(sheet, [f["case_code"], f["id"], f["credit_code"], f["region_code"], f["item_code"], f["found_on"], f["harm"],
                      "yes" if f["major"] else "no", f["procedure"], f["status"], f["decision"], f["deadline"], low, high,
                      f["fine_yuan"], f["departure_reason"], ", ".join(f["flags"])])
    steps = book.create_sheet("时间线")
    append(steps, ["行政行为码 case_code", "案件编号 case_id", "序号 seq", "环节 step", "状态 status", "日期 on", "经办人 by",
                  "期限 deadline", "内容 detail"])
    for f in files:
        for s in f["timeline"] or []:
            append(steps, [f["case_code"], f["id"], s["seq"], s["step"], s["status"], s["on"], s["by"], s["deadline"], s["detail"]])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
