"""Search attributes the orders keep current: staff find orders by them in the CLI, the UI and
`temporal workflow list`."""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")

ALL = (ORDER_STATUS, CUSTOMER_ID)
