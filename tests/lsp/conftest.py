"""End-to-end fixtures: a real ``pql lsp`` subprocess driven by pytest-lsp's client over stdio.

One server per test module (starting Python and pygls costs ~0.5 s); documents live in a
temporary workspace with its own ``pyproject.toml``. Tests wait for ``publishDiagnostics`` of
the exact document version they sent, so the debounce delay never makes them flaky.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsp_helpers import Docs, record_diagnostics
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "pqltools", "lsp", "--stdio"]  # as VS Code starts it


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace root with a pqltools configuration; ``typed/`` also configures a schema."""
    root = tmp_path_factory.mktemp("ws")
    (root / "pyproject.toml").write_text('[tool.pqltools]\neligibility-rules = "2025"\n')
    (root / "typed").mkdir()
    (root / "typed" / "pqltools.toml").write_text('schema = "fields.json"\n')
    (root / "typed" / "fields.json").write_text(json.dumps({
        "homeAddress.countryCode": "string", "homeAddress.city": "string",
        "person.name.firstName": "string", "person.birthDate": "date",
        "xEvent.eventType": "string", "xEvent.commerce.order.priceTotal": "number"}))
    # on disk only, never opened: for workspace diagnostics and inSegment navigation
    (root / "library").mkdir()
    (root / "library" / "broken.pql").write_text("a = \n")
    (root / "library" / "audiences.json").write_text(json.dumps([
        {"id": "aud-1", "name": "first", "expression": {
            "type": "PQL", "format": "pql/text", "value": "a = 1"}},
        {"id": "aud-2", "name": "second", "expression": {
            "type": "PQL", "format": "pql/text", "value": "b = 2"}}], indent=2))
    return root


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient, workspace: Path) -> AsyncIterator[None]:
    """An initialised session (VS Code's capabilities, short debounce)."""
    registrations: list[types.Registration] = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:
        registrations.extend(params.registrations)

    lsp_client.registrations = registrations  # type: ignore[attr-defined]
    record_diagnostics(lsp_client)
    params = types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(),
        initialization_options={"debounceMs": 20},
    )
    result = await lsp_client.initialize_session(params)
    lsp_client.server_capabilities_seen = result.capabilities  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def docs(client: LanguageClient, workspace: Path) -> Docs:
    """A document helper bound to the module's client."""
    return Docs(client, workspace)
