"""Assessment service: receives 综合风险评估报告 (附件4) and classifies employers 甲/乙/丙."""
