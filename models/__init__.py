"""famlink stage package."""
