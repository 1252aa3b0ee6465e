"""The JSON API (`/api/v1`) and FHIR R4 terminology operations (`/fhir`).

Both are thin renderings of the application layer the HTML pages use (medcodes.app):
a code is always read through `medcodes.app.codes.code_data()` (STYLE.md principle 1).
"""
