"""Python (py-solc-x + npm solc) and Hardhat compile the same sources to identical bytecode."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from ledger.compiler import Toolchain
from ledger.config import PROJECT_ROOT


@pytest.mark.slow
def test_python_and_hardhat_produce_identical_bytecode() -> None:
    compiled = Toolchain(PROJECT_ROOT).compile()
    assert compiled["EvidenceRegistry"].compiler["version"].startswith("0.8.28")
    npx = shutil.which("npx")
    assert npx, "node/npx is required"
    subprocess.run([npx, "hardhat", "compile", "--quiet"], cwd=PROJECT_ROOT, check=True, timeout=300)
    for name, contract in compiled.items():
        artifact_path = PROJECT_ROOT / "build/hardhat/artifacts" / contract.source / f"{name}.json"
        artifact = json.loads(artifact_path.read_text())
        assert artifact["deployedBytecode"] == "0x" + contract.runtime_bytecode.hex(), name
        assert artifact["bytecode"] == "0x" + contract.bytecode.hex(), name
        assert artifact["abi"] == contract.abi, name
