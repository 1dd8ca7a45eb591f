"""Printable documents for a classified report: the 附件4 report and the 公示 notice, as PDF bytes."""

from services.assessment.documents.render import render_notice_pdf, render_report_pdf

__all__ = ["render_notice_pdf", "render_report_pdf"]
