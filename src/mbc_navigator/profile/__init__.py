"""Patient profiles: read and checked against the facts catalogue, with HER2 derived from test results."""

from mbc_navigator.profile.model import FieldProblem, Profile, ProfileError
from mbc_navigator.profile.parse import parse_profile

__all__ = ["FieldProblem", "Profile", "ProfileError", "parse_profile"]
