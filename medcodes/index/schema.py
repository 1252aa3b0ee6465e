"""Schema of the index file. Bump SCHEMA_VERSION on any change: an index of
another version is refused with a message to rebuild (the index is derived
data, so a rebuild is the migration)."""

from __future__ import annotations

SCHEMA_VERSION = 4  # 3: history.source; 4: sources.provenance, terms.path, term_refs, unresolved_terms

DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,          -- importer name given to --source
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    releases TEXT NOT NULL,      -- JSON [{system, name, effective}]
    counts TEXT NOT NULL,        -- JSON {"codes": n, "terms": n, "relations": n, "changes": n}
    imported_at TEXT NOT NULL,
    seconds REAL NOT NULL,
    provenance TEXT              -- JSON: a data-layer file's provenance record (medcodes.data), else NULL
);

CREATE TABLE releases (
    system TEXT NOT NULL,
    name TEXT NOT NULL,
    effective TEXT,
    source_id INTEGER NOT NULL REFERENCES sources(id)
);

CREATE TABLE codes (
    id INTEGER PRIMARY KEY,
    system TEXT NOT NULL,
    code TEXT NOT NULL,          -- canonical display form
    compact TEXT NOT NULL,       -- upper case, no dots: what user input is matched on
    title TEXT NOT NULL,
    short_title TEXT,
    kind TEXT NOT NULL,
    billable INTEGER,            -- 1/0, NULL when the source does not say
    parent TEXT,
    depth INTEGER NOT NULL,
    seq INTEGER NOT NULL,        -- position in the system's code order (hierarchy walk)
    release TEXT,
    deleted_in TEXT,             -- release that deleted it (still shown, with history), else NULL
    notes TEXT NOT NULL,         -- JSON [[type, text], ...], own notes only
    synonyms TEXT NOT NULL,      -- JSON [text, ...]
    attributes TEXT NOT NULL,    -- JSON object
    UNIQUE (system, code)
);
CREATE INDEX codes_compact ON codes (compact);
CREATE INDEX codes_parent ON codes (system, parent);
CREATE UNIQUE INDEX codes_seq ON codes (system, seq);

-- Index entries (alphabetic index, External Cause Index, drug and neoplasm tables, PCS index) that
-- point at a code of the loaded release. term: the entry as printed, levels joined by ", " and a
-- table's column heading after " — ". path: JSON [main term, subterm, ..., column heading].
CREATE TABLE terms (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    term TEXT NOT NULL,
    source TEXT NOT NULL,        -- "index", "eindex", "drug", "neoplasm", "pcs-index"
    path TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX terms_code ON terms (system, code);

-- Index entries that send the coder to another entry: kind "see" (look there instead), "see_also"
-- (look there too), "use" (PCS: the axis value to use). target: the other entry as printed.
CREATE TABLE term_refs (
    system TEXT NOT NULL,
    term TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    source TEXT NOT NULL
);
CREATE INDEX term_refs_term ON term_refs (system, term);

-- Index entries whose code is not in the loaded release (an FY2025 index read beside FY2026 codes):
-- reported here and by the build, never kept in terms. reason: "no such code" or "deleted in ...".
CREATE TABLE unresolved_terms (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    term TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    release TEXT NOT NULL,       -- the index's release
    reason TEXT NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources(id)
);

CREATE TABLE relations (
    type TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_code TEXT NOT NULL,
    target_system TEXT NOT NULL,
    target_code TEXT NOT NULL,
    attributes TEXT NOT NULL     -- JSON
);
CREATE INDEX relations_source ON relations (source_system, source_code);
CREATE INDEX relations_target ON relations (target_system, target_code);

-- What each release did to each code: from the official change lists the sources carry, and from
-- the diff of consecutive releases of a system loaded in the same build (history.py).
CREATE TABLE history (
    system TEXT NOT NULL,
    code TEXT NOT NULL,
    release TEXT NOT NULL,
    effective TEXT,              -- when the change took effect (HCPCS: the action effective date)
    change TEXT NOT NULL,        -- added / revised / deleted
    old_title TEXT,
    new_title TEXT,
    source TEXT NOT NULL         -- "addenda", "hcpcs action code C", "release diff"
);
CREATE INDEX history_code ON history (system, code);
CREATE INDEX history_release ON history (system, release);
"""
