"""Coding edits and groupings of ICD-10-CM/PCS codes, from official CMS tables.

What a coder checks before billing, beside the code itself: whether a secondary diagnosis is a CC or an
MCC (IPPS Tables 6I/6J) and which principal diagnoses cancel that (Table 6K), the MS-DRGs a diagnosis
or procedure can group to (MS-DRG Definitions Manual lists), the CMS-HCC V28 payment category of a
diagnosis, and the Medicare Code Editor edits a code triggers (age and sex conflicts, manifestation code,
unacceptable principal diagnosis, questionable admission, non-covered procedure, ...). Each fact names
its table and version. The POA exempt list is in no package read here: the code data says so.

- tables.py: parsers of the official files (pure).
- sources.py: which installed files are read, and what they are.
- build.py: the build step that stores the facts for the loaded codes.
- lookup.py: one code's facts, for the code data (page, JSON API).
"""
