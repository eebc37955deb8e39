"""The closed vocabularies of the catalog, checked exactly (never by substring): USPS state codes (from the ``us``
package: the 50 states, DC and the territories), ISO 3166-2 subdivision codes (``pycountry``), needs, industries,
employment states and signal types."""

from __future__ import annotations

from functools import cache

import pycountry
import us

from upswing.service_catalog.models import EmploymentState

#: What a service can meet; the matching's need table maps signals onto these (docs/matching.md).
NEEDS = ("hardship", "restart", "settlement", "rehabilitation", "refinance", "loan")

#: The industries a service can name and a lead's employer is classified into (matching.scoring.infer_industry).
INDUSTRIES = ("construction", "education", "finance", "government", "healthcare", "hospitality", "manufacturing",
              "professional_services", "real_estate", "retail", "technology", "transportation", "agriculture",
              "energy", "media")

#: Signal types a service may list as making it relevant (person events, company intents, portal engagement).
SIGNAL_TYPES = ("new_employment", "promotion", "job_loss", "business_launch", "certification", "license_renewal",
                "education", "award", "intent_financial_distress", "intent_growth", "intent_expansion",
                "intent_loan_need", "intent_consulting_need", "portal_engagement")

EMPLOYMENT_STATES = tuple(state.value for state in EmploymentState)


@cache
def usps_codes() -> frozenset[str]:
    return frozenset(state.abbr for state in us.states.STATES_AND_TERRITORIES)


@cache
def _subdivisions() -> frozenset[str]:
    return frozenset(sub.code for sub in pycountry.subdivisions)


def is_usps_code(value: str) -> bool:
    """Exactly a USPS state or territory code, upper case (``CA``; never ``Ca``, ``Calif`` or ``Chicago``)."""
    return value in usps_codes()


def is_region_code(value: str) -> bool:
    """Exactly an ISO 3166-2 subdivision code (``US-CA``, ``CA-ON``)."""
    return value in _subdivisions()
