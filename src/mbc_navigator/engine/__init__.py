"""The eligibility engine: a profile and the knowledge base in, an assessment out."""

from mbc_navigator.engine.assess import assess

__all__ = ["assess"]
