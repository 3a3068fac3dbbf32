"""CDS Hooks 2.0 service: the assessment as cards for a record system's patient-view hook."""
