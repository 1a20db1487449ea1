"""Bayer refinery: liquor properties (more to come: unit operations, precipitation, the liquor loop)."""
