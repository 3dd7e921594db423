"""The service's edges: the client module, the CLI, the REST API and the staff console."""

import logging

# A library logs; the program running it decides where that goes (the CLI shows none of it).
logging.getLogger("orders").addHandler(logging.NullHandler())
