"""The search attributes orders keep current (`domain.visibility` says what each holds): staff find orders
by them in the CLI, the console, the Temporal UI and `temporal workflow list`; the report counts them."""

from typing import Any

from temporalio.common import SearchAttributeIndexedValueType, SearchAttributeKey, TypedSearchAttributes

from domain import visibility

ORDER_STATUS = SearchAttributeKey.for_keyword(visibility.ORDER_STATUS)
CUSTOMER_ID = SearchAttributeKey.for_keyword(visibility.CUSTOMER_ID)
REASON_CODE = SearchAttributeKey.for_keyword(visibility.REASON_CODE)
CANCEL_PATH = SearchAttributeKey.for_keyword(visibility.CANCEL_PATH)
CANCELED_BY = SearchAttributeKey.for_keyword(visibility.CANCELED_BY)

# What the report counts (1.1 on). A SQL visibility store (SQLite, PostgreSQL) has 3 of each non-keyword
# type and 10 keywords per namespace: these take 1 Bool, 3 Int, 1 Double, 1 Keyword (docs/performance.md).
ITEMS_CANCELED = SearchAttributeKey.for_bool(visibility.ITEMS_CANCELED)
REQUESTS_DENIED = SearchAttributeKey.for_int(visibility.REQUESTS_DENIED)
DECISIONS = SearchAttributeKey.for_int(visibility.DECISIONS)
DECISION_SECONDS = SearchAttributeKey.for_float(visibility.DECISION_SECONDS)
MODIFICATIONS = SearchAttributeKey.for_int(visibility.MODIFICATIONS)
CANCELED_VIA = SearchAttributeKey.for_keyword(visibility.CANCELED_VIA)

ALL: tuple[SearchAttributeKey[Any], ...] = (
    ORDER_STATUS,
    CUSTOMER_ID,
    REASON_CODE,
    CANCEL_PATH,
    CANCELED_BY,
    ITEMS_CANCELED,
    REQUESTS_DENIED,
    DECISIONS,
    DECISION_SECONDS,
    MODIFICATIONS,
    CANCELED_VIA,
)
BY_NAME = {key.name: key for key in ALL}
CLI_TYPES = {
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
}


def cli_flags() -> list[str]:
    """`temporal server start-dev` flags that register them: `--search-attribute Name=Type` each."""
    return [
        flag
        for key in ALL
        for flag in ("--search-attribute", f"{key.name}={CLI_TYPES[key.indexed_value_type]}")
    ]


def by_name(attributes: TypedSearchAttributes) -> dict[str, str]:
    """An execution's search attributes as visibility shows them: name → value as text."""
    return {pair.key.name: str(pair.value) for pair in attributes}
