"""Medical policies: ingest payer and Medicare policy documents and link each to the codes it cites.

The functions other layers call (the code page, the JSON API, the policy pages) are re-exported here.
"""

from .queries import co_cited_codes, policies_for_code, policy_page, search_policies

__all__ = ["co_cited_codes", "policies_for_code", "policy_page", "search_policies"]
