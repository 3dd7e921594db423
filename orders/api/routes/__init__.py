"""The REST API's routes, one `APIRouter` a module: `ops` (health and readiness), `staff` (VTEX's private
`/api/oms/pvt/orders` paths for the merchant's systems: place, get, and the commands), `listing` (VTEX's
List orders), `customer` (the storefront's cancel request), and the project's extensions beside VTEX's
paths: `items` (line-level cancellation, the staff's and the customer's) and `policy` (a payment refused,
a window or a decision deadline moved later). `params` has the parameters they share (docs/api.md).
"""
