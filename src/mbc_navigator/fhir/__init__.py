"""FHIR R4 (mCODE) records in: a Bundle read into a profile, with the resource behind each fact."""

from mbc_navigator.fhir.read import FhirError, FhirReading, read_bundle, read_bundle_text

__all__ = ["FhirError", "FhirReading", "read_bundle", "read_bundle_text"]
