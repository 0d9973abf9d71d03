// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @dev Roles shared by the ledger's contracts. Accounts hold roles, never ownership
/// (ARCHITECTURE-BRIEF §Contracts). The admin role is OpenZeppelin's DEFAULT_ADMIN_ROLE,
/// moved only through AccessControlDefaultAdminRules' delayed two-step transfer.

/// @dev Evidence service provider (数据资产存证服务商, TJIFA §3.8, §7): may anchor digests and batch roots.
bytes32 constant EVIDENCE_PROVIDER_ROLE = keccak256("EVIDENCE_PROVIDER_ROLE");

/// @dev Authority node (notary, arbitration, time service, audit, identity CA ... TJIFA §7.1.4):
/// may endorse anchors.
bytes32 constant ENDORSER_ROLE = keccak256("ENDORSER_ROLE");

/// @dev Registration authority (登记机构): accepts, registers, changes and cancels registration units, relaying
/// the holders' signed consents (REGISTRATION_RULES §1).
bytes32 constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

/// @dev Third-party service agency (第三方服务机构) that files substantive-review reports (SZ art. 15; AH art. 11).
bytes32 constant REVIEWER_ROLE = keccak256("REVIEWER_ROLE");

/// @dev Court, arbitration body or other authority whose effective orders drive cancellation, objection outcomes
/// and releases (SZ art. 19-20; TJIFA §6.4.5.3).
bytes32 constant JUDICIAL_ROLE = keccak256("JUDICIAL_ROLE");

/// @notice The caller lacks the role a function requires.
/// @param caller The account that was refused.
/// @param role The role it would need.
error RegistryUnauthorized(address caller, bytes32 role);
