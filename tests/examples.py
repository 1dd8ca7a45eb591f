"""The example report of the domain notes (an employer in 乡宁县 exposed to 矽尘), as tests use it.

矽尘 24 exposed 不符合 → Ⅲ; self-check 82.5 → B; Ⅲ × B → 丙.
"""

from __future__ import annotations

from typing import Any

EXAMPLE_REPORT: dict[str, Any] = {
    "submission_id": "7b0c6a0e-4a8e-4d3c-9a53-0d2f6c1b5e11",
    "enterprise": {
        "credit_code": "91141029MA0GRT8U3L",
        "name": "乡宁县示例水泥有限公司",
        "region_code": "141029",
        "industry_codes": ["C3011"],
        "employees": 86,
        "production_started_on": "2016-04-01",
    },
    "assessor": {"type": "self"},
    "assessed_on": "2023-06-01",
    "hazards": [
        {"factor": "矽尘", "exposed": 24, "compliant": False, "tested_on": "2023-05-10", "test_report_no": "JC-2023-0511"},
        {"factor": "噪声", "exposed": 40, "compliant": True, "tested_on": "2023-05-10", "test_report_no": "JC-2023-0511"},
    ],
    "self_check": {"score": 82.5},
    "publicity": {"start": "2023-06-02", "end": "2023-06-08"},
    "signed_by": "张三",
    "sealed": True,
}
