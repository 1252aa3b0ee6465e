"""The application layer: what the CLI, the pages, the JSON API and FHIR read, and nothing below them.

`codes.code_data()` assembles a code's data from the index (the official record) and the layers above
it (explainer, similar codes, policies); `services` answers the other questions (search, validation,
changes); `params`, `http` and `errors` are the checks, responses and error shape every HTTP rendering
shares; `memo` remembers the answers people ask for again and again.
"""
