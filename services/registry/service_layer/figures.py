"""The agency's figures per county and period (issue 13): classification coverage, shortcomings raised,
cleared and overdue, 风险化解率, screenings by outcome, penalty and no-penalty decisions.

Counted from the registry's own tables only: the portrait projection's fact rows (items, screenings,
decisions, fed by the events) and the archive (which employers are known, which are classified from
a report). What each figure counts: ``domain.figures.DEFINITIONS``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from services.registry.domain import figures as rules
from services.registry.domain.regions import RegionTree
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared import i18n
from shared.jurisdiction import region_prefix


def _county_name(tree: RegionTree, code: str) -> str | None:
    node = tree.get(code)
    return node.name if node is not None else None


def figures(uow: RegistryUnitOfWork, tree: RegionTree, region_code: str, start: date, end: date,
            locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
    """The figures of every county of ``region_code`` (a county: itself) for the period ``start``–``end``
    (China dates, both included; the caller checked them with ``domain.figures.period``); their definitions in
    ``locale`` (Chinese by default; the route passes the reader's language)."""
    prefix = region_prefix(region_code)
    facts = uow.portrait_facts
    coverage = facts.coverage(prefix, end)
    raised = facts.items_raised(prefix, start, end)
    cleared = facts.items_cleared(prefix, start, end)
    overdue = facts.items_overdue(prefix, end)
    screenings = facts.screenings(prefix, start, end)
    decisions = facts.decisions_in(prefix, start, end)

    def counts(county: str) -> rules.CountyCounts:
        known, classified = coverage.get(county, (0, 0))
        return rules.CountyCounts(
            employers_known=known, employers_classified=classified, shortcomings_raised=raised.get(county, 0),
            shortcomings_cleared=cleared.get(county, 0), shortcomings_overdue=overdue.get(county, 0),
            screenings=screenings.get(county, {}), decisions=decisions.get(county, {}),
        )

    listed = [n.code for n in tree.counties_under(region_code)] if region_code in tree else [region_code]
    with_data = set(coverage) | set(raised) | set(cleared) | set(overdue) | set(screenings) | set(decisions)
    rows = [rules.row(code, _county_name(tree, code), counts(code)) for code in listed]
    rows += [rules.row(code, _county_name(tree, code), counts(code), listed=False) for code in sorted(with_data - set(listed))]
    name = tree.name(region_code) if region_code in tree else None
    return {
        "region_code": region_code,
        "region_name": name,
        "period": rules.Period(start, end).view(),
        "rows": rows,
        "totals": rules.totals(region_code, name, rows),
        "definitions": rules.definitions(locale),
    }
