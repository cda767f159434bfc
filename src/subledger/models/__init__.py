"""pydantic models for everything that enters or leaves the books."""
