"""FHIR R4 terminology operations over the same services as the pages and the JSON API.

Parameters are checked before any work is done (as Snowstorm does); every error is an
OperationOutcome with a precise issue type.
"""
