"""The HTTP service: the reference product's REST API over ``Books`` (``subledger serve``).

``clients`` (API clients and access tokens) imports no web framework, so the command line can create clients
without paying for one; ``app`` builds the FastAPI application.
"""
