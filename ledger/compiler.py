"""Offline Solidity compilation through py-solc-x driving the pinned npm ``solc`` (solcjs/wasm).

No native ``solc`` is reachable from the registries this project uses, and ``solcx.install_solc``
downloads, so it is never called. ``scripts/solc-standard-json.js`` behaves like
``solc --standard-json``. Sources are collected here with the same source unit names Hardhat uses
(``contracts/X.sol``, ``@openzeppelin/contracts/...``) and compiled with the settings in
``contracts/compiler-settings.json`` that Hardhat also reads — so both produce identical bytecode,
metadata hash included.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import solcx
from solcx.exceptions import SolcError

from ledger.config import PROJECT_ROOT
from ledger.errors import ToolchainError

_IMPORT = re.compile(r'^\s*import\s+(?:[^"\';]*?\sfrom\s+)?["\']([^"\']+)["\']', re.MULTILINE)
ENTRY_CONTRACTS = ("contracts/EvidenceRegistry.sol", "contracts/AssetRegistry.sol")


@dataclass(frozen=True)
class CompiledContract:
    """ABI and bytecode of one contract, with the compiler that produced them."""

    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime_bytecode: bytes
    compiler: dict[str, Any]
    storage_layout: dict[str, Any]  # solc's storageLayout: what state proofs decode (ledger.proofs.state)


class Toolchain:
    """The project's pinned compiler: npm solc + settings file, with an artifact cache."""

    def __init__(self, project_root: Path = PROJECT_ROOT) -> None:
        self.root = project_root
        self.settings_file = project_root / "contracts" / "compiler-settings.json"
        self.wrapper = project_root / "scripts" / "solc-standard-json.js"
        self.cache_dir = project_root / "build" / "contracts"

    def _config(self) -> dict[str, Any]:
        config: dict[str, Any] = json.loads(self.settings_file.read_text())
        return config

    def _resolve(self, unit: str) -> Path:
        if unit.startswith("contracts/"):
            return self.root / unit
        return self.root / "node_modules" / unit

    def collect_sources(self, entries: tuple[str, ...] = ENTRY_CONTRACTS) -> dict[str, str]:
        """Every source unit reachable from ``entries`` by imports, keyed by Hardhat's unit names."""
        sources: dict[str, str] = {}
        pending = list(entries)
        while pending:
            unit = pending.pop()
            if unit in sources:
                continue
            path = self._resolve(unit)
            if not path.is_file():
                hint = " (run `npm ci`)" if "node_modules" in path.parts else ""
                raise ToolchainError(f"Solidity source {unit} not found at {path}{hint}")
            text = path.read_text(encoding="utf-8")
            sources[unit] = text
            for target in _IMPORT.findall(text):
                if target.startswith("."):
                    target = posixpath.normpath(posixpath.join(posixpath.dirname(unit), target))
                pending.append(target)
        return dict(sorted(sources.items()))

    def standard_input(self, entries: tuple[str, ...] = ENTRY_CONTRACTS) -> dict[str, Any]:
        config = self._config()
        return {
            "language": "Solidity",
            "sources": {unit: {"content": text} for unit, text in self.collect_sources(entries).items()},
            "settings": {
                **config["settings"],
                "outputSelection": {
                    "*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata",
                                "storageLayout"]}
                },
            },
        }

    def compile(self, entries: tuple[str, ...] = ENTRY_CONTRACTS) -> dict[str, CompiledContract]:
        """Compiled contracts by name; cached under build/contracts by the hash of the input."""
        config = self._config()
        std_input = self.standard_input(entries)
        key = hashlib.sha256(json.dumps(std_input, sort_keys=True).encode()).hexdigest()[:24]
        cached = self.cache_dir / f"{key}.json"
        if cached.exists():
            output = json.loads(cached.read_text())
        else:
            output = self._run_solc(std_input, config["solcVersion"])
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            tmp.write_text(json.dumps(output))
            tmp.replace(cached)
        compiler = {"name": "solc", "version": output["_version"], "settings": config["settings"]}
        contracts: dict[str, CompiledContract] = {}
        for source, by_name in output["contracts"].items():
            for name, data in by_name.items():
                contracts[name] = CompiledContract(
                    name=name,
                    source=source,
                    abi=data["abi"],
                    bytecode=bytes.fromhex(data["evm"]["bytecode"]["object"]),
                    runtime_bytecode=bytes.fromhex(data["evm"]["deployedBytecode"]["object"]),
                    compiler=compiler,
                    storage_layout=data.get("storageLayout") or {},
                )
        return contracts

    def _run_solc(self, std_input: dict[str, Any], expected_version: str) -> dict[str, Any]:
        if shutil.which("node") is None:
            raise ToolchainError("node is not installed: the Solidity compiler runs on Node.js (npm solc)")
        if not (self.root / "node_modules" / "solc" / "soljson.js").is_file():
            raise ToolchainError("npm solc is not installed: run `npm ci` in the project root")
        version = str(solcx.wrapper.get_solc_version(self.wrapper, with_commit_hash=True))
        if not version.startswith(expected_version):
            raise ToolchainError(f"npm solc is {version}, but contracts/compiler-settings.json pins "
                                 f"{expected_version}: run `npm ci`")
        try:
            output: dict[str, Any] = solcx.compile_standard(std_input, solc_binary=self.wrapper)
        except SolcError as exc:
            errors = [e["formattedMessage"] for e in (exc.error_dict or []) if e.get("severity") == "error"]
            detail = "\n".join(errors) or str(exc.message)[:2000]
            raise ToolchainError(f"Solidity compilation failed:\n{detail}") from exc
        output["_version"] = version
        return output
