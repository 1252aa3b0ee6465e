"""The API tests share the web tests' index and client."""

from tests.web.conftest import client, index_path, store_path  # noqa: F401
