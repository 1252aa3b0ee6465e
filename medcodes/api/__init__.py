"""The JSON API (`/api/v1`) and FHIR R4 terminology operations (`/fhir`).

Both are thin renderings of the same services the HTML pages use (`services.py`):
a code is always read through `Catalog.code_data()` (STYLE.md principle 1).
"""
