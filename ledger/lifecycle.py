"""The vocabulary of the registration lifecycle (REGISTRATION_RULES §3): actions, unit statuses, cancellation
grounds, objection states and the three rights. The values are AssetRegistry's (contracts/IAssetRegistry.sol),
so they are shared by the chain client, the workflow, the offline verifier and the read side.
"""

from __future__ import annotations

from enum import IntEnum, IntFlag


class Action(IntEnum):
    """Lifecycle actions (IAssetRegistry.Action); also what a consent names."""

    NONE = 0
    INITIAL = 1  # 首次/初始登记
    SUPPLEMENTARY = 2  # 补充登记 (TJIFA §6.4.2)
    CHANGE = 3  # 变更登记 (TJIFA §8.3.1)
    TRANSFER = 4  # 转移登记
    LICENCE = 5  # 许可登记
    PLEDGE = 6  # 质押
    RELEASE = 7  # release of a rights-page entry
    CANCELLATION = 8  # 注销登记
    RENEWAL = 9  # 续期
    DECLARATION = 10  # rights-and-security declaration (TJIFA App. 2)
    OBJECTION = 11  # 异议登记 (SZ art. 20)
    OBJECTION_LITIGATION = 12
    OBJECTION_RESOLUTION = 13
    SUSPENSION = 14  # 中止 (DL art. 22)
    REINSTATEMENT = 15
    REVOCATION = 16  # 撤销


class UnitStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    EXPIRED = 3
    CANCELLED = 4
    REVOKED = 5


def effective_status(stored: UnitStatus, valid_until: int, now: int) -> UnitStatus:
    """The status as AssetRegistry computes it (``_effectiveStatus``): an active unit whose validity has ended
    (``now >= valid_until``) is expired, whether or not ``markExpired`` recorded it yet."""
    if stored is UnitStatus.ACTIVE and valid_until and now >= valid_until:
        return UnitStatus.EXPIRED
    return stored


class CancellationGround(IntEnum):
    HOLDER = 1  # TJIFA §6.4.5.1
    JUDICIAL_ORDER = 2  # TJIFA §6.4.5.3, SZ art. 19
    NO_REMAINING_HOLDER = 3  # SZ art. 19 (ex officio, citing a recorded order)
    EXPIRED = 4  # GZ art. 35 (ex officio after expiry, announced)


class ObjectionStatus(IntEnum):
    NONE = 0
    PENDING = 1
    LITIGATING = 2
    LAPSED = 3
    UPHELD = 4
    DISMISSED = 5


class Right(IntFlag):
    """The three rights (三权分置, SZ art. 7; DL art. 4)."""

    HOLDING = 1  # 数据资源持有权
    PROCESSING_USE = 2  # 数据加工使用权
    PRODUCT_OPERATION = 4  # 数据产品经营权
    ALL = 7
