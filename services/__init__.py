"""The services of the occupational-health classified supervision system (职业卫生分类监督执法)."""
