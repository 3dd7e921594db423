"""The search attributes orders keep current (`domain.visibility` says what each holds): staff find orders
by them in the CLI, the console, the Temporal UI and `temporal workflow list`."""

from temporalio.common import SearchAttributeKey, TypedSearchAttributes

from domain import visibility

ORDER_STATUS = SearchAttributeKey.for_keyword(visibility.ORDER_STATUS)
CUSTOMER_ID = SearchAttributeKey.for_keyword(visibility.CUSTOMER_ID)
REASON_CODE = SearchAttributeKey.for_keyword(visibility.REASON_CODE)
CANCEL_PATH = SearchAttributeKey.for_keyword(visibility.CANCEL_PATH)
CANCELED_BY = SearchAttributeKey.for_keyword(visibility.CANCELED_BY)

ALL = (ORDER_STATUS, CUSTOMER_ID, REASON_CODE, CANCEL_PATH, CANCELED_BY)
BY_NAME = {key.name: key for key in ALL}


def by_name(attributes: TypedSearchAttributes) -> dict[str, str]:
    """An execution's search attributes as visibility shows them: name → value as text."""
    return {pair.key.name: str(pair.value) for pair in attributes}
