// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IEvidenceRegistry — vocabulary of the evidence (存证) registry
/// @notice Fixes digests of declarations, proofs and documents on chain (TJIFA §4.2, §7.2),
/// singly or as the Merkle root of a batch, and lets authority nodes endorse them (TJIFA §7.1.4).
/// Raw data never goes on chain (REGISTRATION_RULES §4.4): only digests and state events.
interface IEvidenceRegistry {
    /// @notice One anchored digest or batch root, packed in a single storage slot.
    struct Anchor {
        address submitter; // The evidence provider account that anchored it.
        uint40 timestamp; // Block time of the anchoring block (Unix seconds).
        uint40 blockNumber; // Number of the anchoring block.
        uint8 hashAlgorithm; // 1 = SHA-256, 2 = Keccak-256, 3 = SM3 (for a batch root: the leaves' algorithm, 0 = mixed).
        uint8 kind; // Evidence kind of a single digest (see the Python EvidenceKind); 0 for a batch root.
    }

    /// @notice A digest was anchored.
    /// @param digest The anchored digest.
    /// @param submitter The evidence provider that anchored it.
    /// @param hashAlgorithm Algorithm that produced the digest.
    /// @param kind Evidence kind.
    /// @param ref Caller-chosen reference (e.g. evidence number 存证号 or a hash of it).
    event EvidenceAnchored(
        bytes32 indexed digest,
        address indexed submitter,
        uint8 hashAlgorithm,
        uint8 kind,
        bytes32 ref
    );

    /// @notice The Merkle root of a batch of digests was anchored.
    /// @param root The root over the batch's leaves (see leafHash).
    /// @param submitter The evidence provider that anchored it.
    /// @param leafCount Number of leaves in the batch.
    /// @param batchRef Caller-chosen batch reference.
    event BatchAnchored(bytes32 indexed root, address indexed submitter, uint32 leafCount, bytes32 batchRef);

    /// @notice An authority node endorsed an anchor.
    /// @param anchorKey The endorsed digest or batch root.
    /// @param endorser The endorsing account.
    /// @param endorserKind The endorser's kind at the time (notary, arbitration, time service ...).
    /// @param statement Hash of the endorser's statement document, or zero.
    event AnchorEndorsed(bytes32 indexed anchorKey, address indexed endorser, uint8 endorserKind, bytes32 statement);

    /// @notice An account was registered as an endorser of the given kind.
    /// @param account The endorser account.
    /// @param endorserKind Its kind (1 notary ... 7 identity authority).
    event EndorserRegistered(address indexed account, uint8 endorserKind);

    /// @notice The digest is already anchored; anchors are immutable and unique.
    error EvidenceAlreadyAnchored(bytes32 digest, address submitter, uint256 timestamp);
    /// @notice The batch root is already anchored.
    error EvidenceBatchAlreadyAnchored(bytes32 root, address submitter, uint256 timestamp);
    /// @notice Nothing is anchored under this key.
    error EvidenceNotAnchored(bytes32 anchorKey);
    /// @notice A zero digest or root was given.
    error EvidenceZeroDigest();
    /// @notice The hash algorithm id is not one this registry knows.
    error EvidenceUnsupportedHashAlgorithm(uint8 hashAlgorithm);
    /// @notice The evidence kind id is not one this registry knows.
    error EvidenceUnsupportedKind(uint8 kind);
    /// @notice A batch must hold at least one leaf.
    error EvidenceEmptyBatch();
    /// @notice This endorser already endorsed this anchor.
    error EvidenceAlreadyEndorsed(bytes32 anchorKey, address endorser);
    /// @notice The endorser kind id is not one this registry knows.
    error EvidenceUnsupportedEndorserKind(uint8 endorserKind);

    /// @notice Anchors one digest (TJIFA §7.2.2: numbering and fixing the evidence).
    /// @dev Requires EVIDENCE_PROVIDER_ROLE. Reverts with EvidenceAlreadyAnchored on a duplicate.
    /// @param digest The digest of the evidence.
    /// @param hashAlgorithm 1 = SHA-256, 2 = Keccak-256, 3 = SM3.
    /// @param kind Evidence kind id (1..MAX_KIND).
    /// @param ref Caller-chosen reference carried in the event.
    function anchor(bytes32 digest, uint8 hashAlgorithm, uint8 kind, bytes32 ref) external;

    /// @notice Anchors the Merkle root of a batch of digests.
    /// @dev Requires EVIDENCE_PROVIDER_ROLE. Leaves are leafHash(hashAlgorithm, digest); pairs are hashed sorted,
    /// as OpenZeppelin MerkleProof expects.
    /// @param root The batch root.
    /// @param leafCount Number of leaves (at least one).
    /// @param batchRef Caller-chosen batch reference carried in the event.
    function anchorBatch(bytes32 root, uint32 leafCount, bytes32 batchRef) external;

    /// @notice Endorses an anchored digest or batch root as an authority node (TJIFA §7.1.4).
    /// @dev Requires ENDORSER_ROLE. One endorsement per endorser and anchor.
    /// @param anchorKey The digest or batch root.
    /// @param statement Hash of the endorser's statement, or zero.
    function endorse(bytes32 anchorKey, bytes32 statement) external;

    /// @notice Grants ENDORSER_ROLE to `account` and records its kind.
    /// @dev Requires DEFAULT_ADMIN_ROLE.
    /// @param account The authority node's account.
    /// @param endorserKind 1 notary, 2 law firm, 3 arbitration, 4 judicial appraisal, 5 time service,
    /// 6 audit, 7 digital-identity authority.
    function registerEndorser(address account, uint8 endorserKind) external;

    /// @notice The record of an anchored digest (all zero when absent).
    /// @param digest The digest.
    /// @return The anchor record.
    function anchorOf(bytes32 digest) external view returns (Anchor memory);

    /// @notice The record of an anchored batch root (all zero when absent).
    /// @param root The batch root.
    /// @return The anchor record.
    function batchOf(bytes32 root) external view returns (Anchor memory);

    /// @notice When `endorser` endorsed `anchorKey` (0 if it did not).
    /// @param anchorKey The digest or batch root.
    /// @param endorser The endorser account.
    /// @return Block time of the endorsement.
    function endorsedAt(bytes32 anchorKey, address endorser) external view returns (uint256);

    /// @notice The kind an endorser was registered with (0 if none).
    /// @param account The account.
    /// @return The endorser kind id.
    function endorserKindOf(address account) external view returns (uint8);

    /// @notice The leaf a digest takes in a batch tree: keccak256(keccak256(abi.encode(hashAlgorithm, digest))).
    /// @param hashAlgorithm Algorithm of the digest.
    /// @param digest The digest.
    /// @return The leaf hash.
    function leafHash(uint8 hashAlgorithm, bytes32 digest) external pure returns (bytes32);

    /// @notice Whether `digest` belongs to the anchored batch `root` by `proof`.
    /// @param root An anchored batch root.
    /// @param hashAlgorithm Algorithm of the digest.
    /// @param digest The digest.
    /// @param proof Sibling hashes from leaf to root.
    /// @return True when the root is anchored and the proof holds.
    function verifyInclusion(bytes32 root, uint8 hashAlgorithm, bytes32 digest, bytes32[] calldata proof)
        external
        view
        returns (bool);

    /// @notice Semantic version of the rules this contract implements.
    /// @return The version string.
    function version() external pure returns (string memory);
}
