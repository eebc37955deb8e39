"""The CRM connectors; importing this package registers each one."""

from upswing.crm.connector import CONNECTORS, CrmConnector, CrmError
from upswing.crm.connectors import hubspot, salesforce  # noqa: F401  (each registers itself)


def connector_for(system: str) -> type[CrmConnector]:
    try:
        return CONNECTORS[system]
    except KeyError:
        raise CrmError(f"unknown CRM {system!r} (known: {', '.join(sorted(CONNECTORS))})") from None
