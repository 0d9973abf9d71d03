"""Certificate content for tests: what an applicant declares (TJIFA §8.2.1), valid unless changed."""

from __future__ import annotations

from typing import Any

USCC = "91120116MA05JD1X47"  # a credit code with a valid GB 32100-2015 check character


def content(name: str = "港口集装箱物流数据集", legal_name: str = "天津港数据科技有限公司", uscc: str = USCC,
            **asset: Any) -> dict[str, Any]:
    return {"holder": {"legal_name": legal_name, "uscc": uscc},
            "asset": {"name": name, "form": "dataset", "acquisition": "original", "update_cycle": "daily",
                      "scenarios": ["物流调度", "航运金融"], "scope": "仅限境内使用，不得转授权", **asset}}
