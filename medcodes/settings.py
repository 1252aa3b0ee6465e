"""Every setting in one table: drives `--help`, the README and MEDCODES_* env variables.

A test checks that each setting here is documented in the README.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Setting:
    name: str  # environment variable
    default: str
    help: str


def _default_db() -> str:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "medcodes" / "medcodes.sqlite")


SETTINGS: tuple[Setting, ...] = (
    Setting("MEDCODES_DB", _default_db(), "the index file every command reads (and `build` writes)"),
    Setting("MEDCODES_STORE", "",
            "durable store for ingested policies and generated content (default: beside MEDCODES_DB,"
            " named medcodes-store.sqlite); survives index rebuilds. A postgresql://user@host:port/db URL"
            " puts it in PostgreSQL, shared by several servers"),
    Setting("MEDCODES_STORE_POOL", "8",
            "connections each server process keeps to a PostgreSQL store"),
    Setting("MEDCODES_HOST", "127.0.0.1", "address `medcodes serve` listens on"),
    Setting("MEDCODES_PORT", "8000", "port `medcodes serve` listens on"),
    Setting("MEDCODES_BASE_URL", "",
            "the address users reach `medcodes serve` at (https://codes.example.org), for the absolute URLs FHIR"
            " resources carry; unset, they are relative (/fhir): the Host header a client sends is never used"),
    Setting("MEDCODES_WORKERS", "1", "uvicorn worker processes for `medcodes serve`"),
    Setting("MEDCODES_HEADER_TIMEOUT", "10",
            "seconds `medcodes serve` waits for a request's headers, from its first byte (slow clients are cut off)"),
    Setting("MEDCODES_BODY_TIMEOUT", "30", "seconds `medcodes serve` waits for a request's body after its headers"),
    Setting("MEDCODES_MAX_CONNECTIONS", "1000",
            "open connections per worker of `medcodes serve`; past it, the one longest waiting for its headers"
            " is dropped (never more than the open-files limit allows)"),
    Setting("MEDCODES_LOOP", "auto", "event loop of `medcodes serve`: auto (uvloop when installed), uvloop, asyncio"),
    Setting("MEDCODES_CACHE", str(Path.home() / ".cache" / "medcodes"),
            "cache for downloaded official files (MEDCODES_FETCH_DIR) and other build inputs"),
    Setting("MEDCODES_SEMANTIC", "auto",
            "semantic search: auto (when the model package, a default dependency, is installed), on, off"),
    Setting("MEDCODES_LLM_BASE_URL", "", "OpenAI-compatible endpoint for generated explainer text"),
    Setting("MEDCODES_LLM_MODEL", "", "model name sent to that endpoint"),
    Setting("MEDCODES_LLM_API_KEY", "", "API key sent to that endpoint (never logged)"),
    Setting("MEDCODES_LLM_DRY", "0.8",
            "strength of llama.cpp's DRY anti-repetition sampler sent with every request (dry_multiplier);"
            " 0 sends none. An endpoint that refuses llama.cpp's fields gets requests without them"),
    Setting("MEDCODES_ONDEMAND_CONCURRENCY", "1",
            "with a model configured, `medcodes serve` writes the explainer of a code whose page is opened"
            " without one, this many codes at a time across every worker sharing the store; 0 turns it off"),
    Setting("MEDCODES_ONDEMAND_QUEUE", "500", "most codes waiting for on-demand generation; past it, pages queue none"),
    Setting("MEDCODES_ONDEMAND_TIMEOUT", "600",
            "seconds one on-demand code may take, all attempts together, before it counts as failed"),
    Setting("MEDCODES_ONDEMAND_BACKOFF", "3600",
            "seconds before a code whose on-demand generation failed may be queued again (doubling per failure)"),
    Setting("MEDCODES_CONTENT_REVIEWED_ONLY", "",
            "1: pages show generated text only once a reviewer approved it (default: unreviewed text too, labelled)"),
    Setting("MEDCODES_CMS_BASE_URL", "https://www.cms.gov",
            "where `medcodes fetch` downloads CMS files (ICD-10-CM/PCS code files and tables, GEMs, HCPCS)"),
    Setting("MEDCODES_CDC_BASE_URL", "https://ftp.cdc.gov",
            "where `medcodes fetch` downloads CDC files (ICD-10-CM XML)"),
    Setting("MEDCODES_FDA_BASE_URL", "https://www.accessdata.fda.gov",
            "where `medcodes fetch` downloads the FDA NDC Directory"),
    Setting("MEDCODES_NLM_BASE_URL", "https://download.nlm.nih.gov",
            "where `medcodes fetch` downloads NLM files (RxNorm prescribable content)"),
    Setting("MEDCODES_LOINC_BASE_URL", "https://loinc.org",
            "where `medcodes fetch` looks for the LOINC table file (loinc.org asks for a free account)"),
    Setting("MEDCODES_FETCH_DIR", "", "cache of downloaded official files (default: MEDCODES_CACHE/downloads)"),
    Setting("MEDCODES_ALLOW_PRIVATE_URLS", "",
            "1 lets policy ingest, crawls and `medcodes fetch` reach loopback, private and link-local addresses"
            " (an intranet policy site), or name the ones allowed: 10.1.0.0/16,127.0.0.1; unset, such URLs"
            " and redirects to them are refused"),
    Setting("MEDCODES_FETCH_TIMEOUT", "60",
            "seconds `medcodes fetch` waits for a publisher's server to connect or send data"),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The value of a setting: environment first, then the table's default."""
    setting = _BY_NAME[name]
    return os.environ.get(name) or setting.default


def db_path(explicit: str | None = None) -> Path:
    return Path(explicit or get("MEDCODES_DB")).expanduser()


def store_path(db: str | None = None) -> str | Path:
    """The durable store: what users add (policies, generated text) lives apart from the
    derived index, so `medcodes build` can replace the index without losing it. A file path, or a
    PostgreSQL URL as given (medcodes.storage.location tells them apart)."""
    explicit = get("MEDCODES_STORE")
    if explicit:
        is_url = explicit.lower().startswith(("postgresql://", "postgres://"))
        return explicit if is_url else Path(explicit).expanduser()
    return db_path(db).with_name("medcodes-store.sqlite")
