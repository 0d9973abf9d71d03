// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

import {EVIDENCE_PROVIDER_ROLE, ENDORSER_ROLE, RegistryUnauthorized} from "./Common.sol";
import {IEvidenceRegistry} from "./IEvidenceRegistry.sol";

/// @title EvidenceRegistry — anchors evidence digests and batch roots (存证)
/// @notice One storage slot per anchor; everything else lives in events (ARCHITECTURE-BRIEF §Contracts).
contract EvidenceRegistry is IEvidenceRegistry, AccessControlDefaultAdminRules {
    /// @dev Highest hash algorithm id: 1 SHA-256, 2 Keccak-256, 3 SM3.
    uint8 private constant _MAX_HASH_ALGORITHM = 3;
    /// @dev Highest evidence kind id (see ledger.evidence.EvidenceKind).
    uint8 private constant _MAX_KIND = 8;
    /// @dev Highest endorser kind id (TJIFA §7.1.4 authority node kinds).
    uint8 private constant _MAX_ENDORSER_KIND = 7;

    mapping(bytes32 digest => Anchor) private _anchors;
    mapping(bytes32 root => Anchor) private _batches;
    mapping(bytes32 anchorKey => mapping(address endorser => uint256 timestamp)) private _endorsements;
    mapping(address account => uint8 endorserKind) private _endorserKinds;

    /// @param initialAdminDelay Seconds a scheduled admin transfer must wait (OpenZeppelin default admin rules).
    /// @param initialAdmin The first admin.
    constructor(uint48 initialAdminDelay, address initialAdmin)
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
    {}

    modifier onlyRoleHolder(bytes32 role) {
        if (!hasRole(role, msg.sender)) revert RegistryUnauthorized(msg.sender, role);
        _;
    }

    /// @inheritdoc IEvidenceRegistry
    function anchor(bytes32 digest, uint8 hashAlgorithm, uint8 kind, bytes32 ref)
        external
        onlyRoleHolder(EVIDENCE_PROVIDER_ROLE)
    {
        if (digest == bytes32(0)) revert EvidenceZeroDigest();
        if (hashAlgorithm == 0 || hashAlgorithm > _MAX_HASH_ALGORITHM) {
            revert EvidenceUnsupportedHashAlgorithm(hashAlgorithm);
        }
        if (kind == 0 || kind > _MAX_KIND) revert EvidenceUnsupportedKind(kind);
        Anchor storage record = _anchors[digest];
        if (record.timestamp != 0) revert EvidenceAlreadyAnchored(digest, record.submitter, record.timestamp);
        _anchors[digest] = Anchor({
            submitter: msg.sender,
            timestamp: uint40(block.timestamp),
            blockNumber: uint40(block.number),
            hashAlgorithm: hashAlgorithm,
            kind: kind
        });
        emit EvidenceAnchored(digest, msg.sender, hashAlgorithm, kind, ref);
    }

    /// @inheritdoc IEvidenceRegistry
    function anchorBatch(bytes32 root, uint32 leafCount, bytes32 batchRef)
        external
        onlyRoleHolder(EVIDENCE_PROVIDER_ROLE)
    {
        if (root == bytes32(0)) revert EvidenceZeroDigest();
        if (leafCount == 0) revert EvidenceEmptyBatch();
        Anchor storage record = _batches[root];
        if (record.timestamp != 0) revert EvidenceBatchAlreadyAnchored(root, record.submitter, record.timestamp);
        _batches[root] = Anchor({
            submitter: msg.sender,
            timestamp: uint40(block.timestamp),
            blockNumber: uint40(block.number),
            hashAlgorithm: 0,
            kind: 0
        });
        emit BatchAnchored(root, msg.sender, leafCount, batchRef);
    }

    /// @inheritdoc IEvidenceRegistry
    function endorse(bytes32 anchorKey, bytes32 statement) external onlyRoleHolder(ENDORSER_ROLE) {
        if (_anchors[anchorKey].timestamp == 0 && _batches[anchorKey].timestamp == 0) {
            revert EvidenceNotAnchored(anchorKey);
        }
        mapping(address endorser => uint256 timestamp) storage byEndorser = _endorsements[anchorKey];
        if (byEndorser[msg.sender] != 0) revert EvidenceAlreadyEndorsed(anchorKey, msg.sender);
        byEndorser[msg.sender] = block.timestamp;
        emit AnchorEndorsed(anchorKey, msg.sender, _endorserKinds[msg.sender], statement);
    }

    /// @inheritdoc IEvidenceRegistry
    function registerEndorser(address account, uint8 endorserKind) external onlyRoleHolder(DEFAULT_ADMIN_ROLE) {
        if (endorserKind == 0 || endorserKind > _MAX_ENDORSER_KIND) {
            revert EvidenceUnsupportedEndorserKind(endorserKind);
        }
        _endorserKinds[account] = endorserKind;
        _grantRole(ENDORSER_ROLE, account);
        emit EndorserRegistered(account, endorserKind);
    }

    /// @inheritdoc IEvidenceRegistry
    function anchorOf(bytes32 digest) external view returns (Anchor memory) {
        return _anchors[digest];
    }

    /// @inheritdoc IEvidenceRegistry
    function batchOf(bytes32 root) external view returns (Anchor memory) {
        return _batches[root];
    }

    /// @inheritdoc IEvidenceRegistry
    function endorsedAt(bytes32 anchorKey, address endorser) external view returns (uint256) {
        return _endorsements[anchorKey][endorser];
    }

    /// @inheritdoc IEvidenceRegistry
    function endorserKindOf(address account) external view returns (uint8) {
        return _endorserKinds[account];
    }

    /// @inheritdoc IEvidenceRegistry
    function leafHash(uint8 hashAlgorithm, bytes32 digest) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(hashAlgorithm, digest))));
    }

    /// @inheritdoc IEvidenceRegistry
    function verifyInclusion(bytes32 root, uint8 hashAlgorithm, bytes32 digest, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        return _batches[root].timestamp != 0
            && MerkleProof.verifyCalldata(proof, root, leafHash(hashAlgorithm, digest));
    }

    /// @inheritdoc IEvidenceRegistry
    function version() external pure returns (string memory) {
        return "1.0.0";
    }
}
