"""The REST API's routes, one `APIRouter` a caller: `ops` (health and readiness), `staff` (VTEX's private
`/api/oms/pvt/orders` paths for the merchant's systems) and `customer` (the storefront's cancel request).
"""
