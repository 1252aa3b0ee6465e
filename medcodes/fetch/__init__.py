"""Fetch official release files from their publishers (CMS, CDC) into a local cache.

    releases.py  the one table of release files: system, release, URL path, importer, checks
    download.py  HTTP download into `<file>.part`, resumed with Range after a break
    verify.py    size, SHA-256, zip integrity and expected members
    cache.py     Fetcher: fetch a release into the cache, list what the cache holds
    update.py    fetch what is new, rebuild the index atomically
    commands.py  the `medcodes fetch` and `medcodes update` commands

This package imports nothing at import time, so `medcodes` starts without httpx.
"""
