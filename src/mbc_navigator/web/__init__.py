"""The web app: JSON API, patient and clinician pages, knowledge pages (``mbcnav serve``)."""
