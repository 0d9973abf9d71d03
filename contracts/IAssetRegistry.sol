// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title IAssetRegistry — vocabulary of the data-asset registry (数据资产登记)
/// @notice Registration units (登记单元) with their three rights, their whole lifecycle (REGISTRATION_RULES §3)
/// and their additional-rights page (他项权益页, TJIFA §8.2.2). Every transition emits the hash of the document
/// that governs it (§4.4). Holders consent by EIP-712 signatures that the registrar relays, so holders need no gas.
interface IAssetRegistry {
    /// @notice Unit status (REGISTRATION_RULES §3.8). Objections and rights-page entries are flags beside it.
    enum UnitStatus {
        None, // never registered
        Active,
        Suspended, // DL 中止 (art. 22)
        Expired, // validity ended without renewal (TJIFA §8.3.3, GZ art. 35)
        Cancelled, // 注销: by holder, court/arbitration order, or ex officio (SZ art. 19)
        Revoked // 撤销 by the registry (AH art. 23, GD art. 22, GZ art. 34)
    }

    /// @notice Lifecycle actions; the action id is also what a holder's consent signature names.
    enum Action {
        None,
        Initial, // 首次/初始登记
        Supplementary, // 补充登记 (TJIFA §6.4.2)
        Change, // 变更登记 (TJIFA §8.3.1: old certificate superseded)
        Transfer, // 转移登记
        Licence, // 许可登记 (rights-page licence entry)
        Pledge, // 质押 (rights-page pledge entry)
        Release, // release of a rights-page entry
        Cancellation, // 注销登记
        Renewal, // 续期/续证
        Declaration, // rights-and-security declaration (TJIFA App. 2)
        Objection, // objection registration accepted (异议登记, SZ art. 20)
        ObjectionLitigation, // court/arbitration acceptance recorded for an objection
        ObjectionResolution, // objection disposed per judgment, ruling or award
        Suspension, // 中止 (DL art. 22)
        Reinstatement, // suspension lifted
        Revocation // 撤销 by the registry
    }

    /// @notice Why a unit was cancelled.
    enum CancellationGround {
        None,
        Holder, // on the holder's application (TJIFA §6.4.5.1)
        JudicialOrder, // effective judgment, ruling or award (TJIFA §6.4.5.3, SZ art. 19)
        NoRemainingHolder, // ex officio, citing a recorded order that extinguished the rights (SZ art. 19)
        Expired // ex officio, validity ended without renewal; announced (GZ art. 35)
    }

    /// @notice Objection registration state (SZ art. 20).
    enum ObjectionStatus {
        None,
        Pending, // accepted; the objector must lodge a court/arbitration filing before the deadline
        Litigating, // court or arbitration acceptance recorded: no lapse
        Lapsed, // deadline passed without a filing; the same matter may not be refiled
        Upheld, // disposed by judgment/award in the objector's favour
        Dismissed // disposed against the objector
    }

    /// @notice Jurisdiction profile: the on-chain part of a rule set (TJIFA, SZ, AH, GD, GZ, DL ...), set as data.
    struct Profile {
        bool exists; // Whether the profile is defined.
        bool jointFiling; // Transfers and licences need both parties' signatures (TJIFA §6.4.3.3); pledges always.
        bool requiresReview; // A third-party substantive-review report must precede initial registration.
        uint16 allowedObjectTypes; // Bit n set = object type n registrable under this profile.
        uint32 maxValidity; // Longest validity in seconds (calendar years are computed off chain); 0 = no expiry.
        uint32 renewalWindow; // Seconds before expiry from which renewal may be filed (TJIFA/GZ: one month).
        uint16 objectionDays; // Days an objector has to lodge a court/arbitration filing (SZ: 15); 0 = no lapse.
        uint8 pledgeBlocks; // What an active pledge blocks without the pledgee's consent: bit 0 transfer, bit 1
        // holder cancellation (default both: the pledgee is protected).
    }

    /// @notice A pledgee's consent to a disposal of the pledged unit (transfer, cancellation).
    struct PledgeeConsent {
        uint256 entryId; // The active pledge entry; every active pledge of the unit must consent, ascending ids.
        Consent consent; // The pledgee's signature over the same action and parameters as the disposal.
    }

    /// @notice A registration unit, packed in two storage slots.
    struct Unit {
        bytes32 certificateHash; // Hash of the current certificate's canonical JSON.
        address holder; // Registered subject: holder of the data-resource holding right (持有权).
        uint40 validUntil; // Expiry (Unix seconds); 0 = no expiry.
        uint16 certificateVersion; // 1 at initial registration, +1 on every reissue; older versions are superseded.
        uint8 status; // UnitStatus.
        uint8 objectType; // 1 data resource, 2 data product, 3 data asset, 4 data element, 5 algorithm model,
        // 6 compute resource, 7 composite product (REGISTRATION_RULES §2.1).
        uint8 profileId; // Jurisdiction profile.
        uint8 rightsMask; // Rights registered in this unit: bit 0 holding, 1 processing-use, 2 product-operation.
        uint8 openObjections; // Objections pending or in litigation.
    }

    /// @notice An entry of the additional-rights page (他项权益页): a pledge or a licence (TJIFA §8.2.2).
    struct RightsEntry {
        bytes32 unitId; // The encumbered unit.
        address counterparty; // Pledgee or licensee.
        uint40 validUntil; // Term end (0 = open-ended).
        uint8 action; // Action.Pledge or Action.Licence.
        uint8 rightsMask; // Rights the entry concerns.
        bool active; // False once released.
    }

    /// @notice An objection registration (异议登记, SZ art. 20).
    struct Objection {
        bytes32 unitId; // The unit objected to.
        address objector; // The interested party.
        uint40 deadline; // Last moment to lodge a court/arbitration filing.
        uint8 status; // ObjectionStatus.
    }

    /// @notice Everything an initial registration records.
    struct InitialRegistration {
        string registrationNumber; // Unique, human-readable; the unit id is keccak256 of it.
        bytes32 applicationId; // Workflow application; its review report must be on chain if the profile says so.
        address holder; // The applicant who becomes the registered subject.
        uint8 objectType; // See Unit.objectType.
        uint8 profileId; // Jurisdiction profile.
        uint8 rightsMask; // Rights registered (at least one).
        bytes32 certificateHash; // Certificate issued.
        bytes32 documentHash; // Registration decision (after notice without sustained objection).
        uint40 validUntil; // End of validity (24:00 China time of the last day; 0 = none), within maxValidity.
    }

    /// @notice A transfer registration; the parties' consents sign keccak256(abi.encode(this)).
    struct TransferRequest {
        address to; // The transferee.
        uint8 rightsMask; // Rights transferred (holding right included = the registered subject changes).
        bytes32 newCertificateHash; // The certificate reissued to reflect the transfer.
        bytes32 documentHash; // Transfer contract, or the order that effects it.
        bytes32 riskAcknowledgementHash; // Written risk acknowledgement while an objection stands, else zero.
    }

    /// @notice A licence or pledge for the rights page; the parties' consents sign keccak256(abi.encode(this)).
    struct RightsEntryRequest {
        uint8 action; // Action.Licence or Action.Pledge.
        address counterparty; // Licensee or pledgee.
        uint8 rightsMask; // Rights concerned.
        uint40 validUntil; // Term end, or 0 for open-ended.
        bytes32 documentHash; // Licence or pledge contract.
        bytes32 riskAcknowledgementHash; // Written risk acknowledgement while an objection stands, else zero.
    }

    /// @notice A holder's or counterparty's EIP-712 consent.
    struct Consent {
        uint256 nonce; // The signer's next nonce (replay protection).
        uint256 deadline; // The consent is void after this time.
        bytes signature; // EIP-712 signature over Consent(unitId, action, paramsHash, nonce, deadline).
    }

    /// @notice A unit was registered (initial registration).
    event UnitRegistered(
        bytes32 indexed unitId,
        address indexed holder,
        string registrationNumber,
        uint8 objectType,
        uint8 profileId,
        uint8 rightsMask,
        uint40 validUntil
    );

    /// @notice A lifecycle transition happened; `documentHash` is the governing document (§4.4).
    event RegistrationRecorded(
        bytes32 indexed unitId, uint8 indexed action, bytes32 documentHash, address indexed actor
    );

    /// @notice A certificate was issued; the previous version (if any) is superseded.
    event CertificateIssued(bytes32 indexed unitId, uint16 version, bytes32 certificateHash, bytes32 supersededHash);

    /// @notice Rights moved to a new holder (transfer).
    event RightsTransferred(bytes32 indexed unitId, address indexed from, address indexed to, uint8 rightsMask);

    /// @notice The unit's validity was extended (renewal): its new end.
    event ValidityExtended(bytes32 indexed unitId, uint40 validUntil);

    /// @notice The unit's status changed.
    event StatusChanged(bytes32 indexed unitId, uint8 status, uint8 cancellationGround);

    /// @notice A pledge or licence was entered on the rights page.
    event RightsEntryAdded(
        bytes32 indexed unitId, uint256 indexed entryId, uint8 action, address indexed counterparty,
        uint8 rightsMask, uint40 validUntil
    );

    /// @notice A rights-page entry was released.
    event RightsEntryReleased(bytes32 indexed unitId, uint256 indexed entryId);

    /// @notice An objection was registered, or its status changed.
    event ObjectionUpdated(
        bytes32 indexed objectionId, bytes32 indexed unitId, address objector, uint8 status, uint40 deadline
    );

    /// @notice A disposal went ahead while an objection stood, on the filer's written risk acknowledgement.
    event RiskAcknowledged(bytes32 indexed unitId, uint8 action, bytes32 acknowledgementHash);

    /// @notice A third-party substantive-review report was filed for an application.
    event ReviewRecorded(bytes32 indexed applicationId, address indexed reviewer, bytes32 reportHash);

    /// @notice A court or arbitration order concerning a unit was recorded by the judicial role; ex-officio acts
    /// that rest on an order cite it (SZ art. 19).
    event JudicialOrderRecorded(bytes32 indexed unitId, bytes32 indexed orderHash, address indexed recordedBy);

    /// @notice A signed rights-and-security declaration (TJIFA App. 2) was recorded.
    event DeclarationRecorded(bytes32 indexed applicationId, address indexed declarant, bytes32 declarationHash);

    /// @notice A jurisdiction profile was set.
    event ProfileSet(uint8 indexed profileId, Profile profile);

    error UnitAlreadyRegistered(bytes32 unitId);
    error UnitNotFound(bytes32 unitId);
    error UnitNotActive(bytes32 unitId, uint8 status);
    error UnitNotSuspended(bytes32 unitId, uint8 status);
    error UnitUnderObjection(bytes32 unitId, uint8 openObjections);
    error UnitHasNoExpiry(bytes32 unitId);
    error UnitNotExpired(bytes32 unitId, uint40 validUntil);
    error RenewalWindowClosed(bytes32 unitId, uint256 opensAt, uint256 validUntil);
    error ProfileUnknown(uint8 profileId);
    error ObjectTypeNotAllowed(uint8 profileId, uint8 objectType);
    error InvalidRights(uint8 rightsMask);
    error InvalidCancellationGround(uint8 ground);
    error ZeroValue();
    error InvalidAction(uint8 action);
    error ReviewMissing(bytes32 applicationId);
    error ReviewAlreadyRecorded(bytes32 applicationId);
    error ConsentMissing(address signer);
    error ConsentExpired(address signer, uint256 deadline);
    error ConsentInvalid(address signer);
    error NotRightsHolder(bytes32 unitId, address account, uint8 rightsMask);
    error EntryNotActive(uint256 entryId);
    error EntryTermInvalid(uint40 validUntil);
    error ObjectionAlreadyOpen(bytes32 objectionId);
    error ObjectionMayNotBeRefiled(bytes32 objectionId);
    error ObjectionNotOpen(bytes32 objectionId, uint8 status);
    error ObjectionDeadlinePassed(bytes32 objectionId, uint40 deadline);
    error ObjectionDeadlineNotReached(bytes32 objectionId, uint40 deadline);
    error ObjectionsNotAllowed(uint8 profileId);
    error ValidityInvalid(uint40 validUntil, uint256 latest);
    error UnitPledged(bytes32 unitId, uint256 activePledges);
    error PledgeeConsentInvalid(uint256 entryId);
    error EntryNotOfUnit(uint256 entryId, bytes32 unitId);
    error OrderNotRecorded(bytes32 unitId, bytes32 orderHash);
    error GroundsMissing();

    /// @notice Sets a jurisdiction profile (data, not code: adding one needs no upgrade).
    /// @dev Requires DEFAULT_ADMIN_ROLE.
    /// @param profileId Profile id (1..255).
    /// @param profile Its parameters.
    function setProfile(uint8 profileId, Profile calldata profile) external;

    /// @notice Files a third-party substantive-review report for an application (SZ art. 15, DL art. 20).
    /// @dev Requires REVIEWER_ROLE. One report per application.
    /// @param applicationId The workflow application.
    /// @param reportHash Hash of the review report.
    function recordReview(bytes32 applicationId, bytes32 reportHash) external;

    /// @notice Records a declarant's signed rights-and-security declaration (TJIFA App. 2).
    /// @dev Requires REGISTRAR_ROLE; the declarant signs Action.Declaration over (applicationId, declarationHash).
    /// @param applicationId The workflow application.
    /// @param declarant The declaring holder.
    /// @param declarationHash Hash of the declaration document.
    /// @param consent The declarant's signature.
    function recordDeclaration(
        bytes32 applicationId, address declarant, bytes32 declarationHash, Consent calldata consent
    ) external;

    /// @notice Initial registration (首次登记): creates the unit and issues certificate version 1.
    /// @dev Requires REGISTRAR_ROLE and the holder's consent to Action.Initial.
    /// @param registration What is registered.
    /// @param holderConsent The holder's signature.
    /// @return unitId keccak256 of the registration number.
    function registerInitial(InitialRegistration calldata registration, Consent calldata holderConsent)
        external
        returns (bytes32 unitId);

    /// @notice Supplementary registration (补充登记) or change registration (变更登记): reissues the certificate,
    /// superseding the previous version (TJIFA §6.4.2, §8.3.1).
    /// @dev Requires REGISTRAR_ROLE and the holder's consent. While an objection stands the filer's risk
    /// acknowledgement is required (SZ art. 20).
    /// @param unitId The unit.
    /// @param action Action.Supplementary or Action.Change.
    /// @param newCertificateHash The new certificate.
    /// @param documentHash The governing document.
    /// @param riskAcknowledgementHash Written risk acknowledgement, or zero when no objection stands.
    /// @param holderConsent The holder's signature.
    function reissue(
        bytes32 unitId, uint8 action, bytes32 newCertificateHash, bytes32 documentHash,
        bytes32 riskAcknowledgementHash, Consent calldata holderConsent
    ) external;

    /// @notice Transfer registration (转移登记): moves rights to `to` and reissues the certificate.
    /// @dev Requires REGISTRAR_ROLE. The transferee's consent is always needed; the transferor's too when the
    /// profile demands joint filing (TJIFA §6.4.3.3), else the transferee files alone with the contract (SZ art. 17).
    /// @param unitId The unit.
    /// @param request What is transferred, to whom, under which document.
    /// @param fromConsent The transferor's signature (ignored unless joint filing).
    /// @param toConsent The transferee's signature.
    /// @param pledgees Consents of every active pledge's pledgee when the profile's pledgeBlocks covers transfer;
    /// without them a pledged unit cannot be transferred (the pledge stays on the rights page).
    function transfer(
        bytes32 unitId,
        TransferRequest calldata request,
        Consent calldata fromConsent,
        Consent calldata toConsent,
        PledgeeConsent[] calldata pledgees
    ) external;

    /// @notice Enters a licence or pledge on the rights page (他项权益页).
    /// @dev Requires REGISTRAR_ROLE. The counterparty's consent is always needed; the holder's too under joint
    /// filing (TJIFA §6.4.3.3) and for every pledge (no pledge without the pledgor), else the licensee files alone
    /// with the contract (SZ art. 16).
    /// @param unitId The unit.
    /// @param request The licence or pledge.
    /// @param holderConsent The holder's signature (ignored unless joint filing).
    /// @param counterpartyConsent The counterparty's signature.
    /// @return entryId The new entry's id.
    function addRightsEntry(
        bytes32 unitId, RightsEntryRequest calldata request, Consent calldata holderConsent,
        Consent calldata counterpartyConsent
    ) external returns (uint256 entryId);

    /// @notice Releases a rights-page entry: relayed by the registrar with the counterparty's consent, or
    /// ordered directly by a JUDICIAL_ROLE account. History is kept.
    /// @param unitId The unit the entry belongs to (an entry of another unit is refused).
    /// @param entryId The entry.
    /// @param documentHash Release agreement or order.
    /// @param counterpartyConsent The counterparty's signature (ignored for a judicial order).
    function releaseRightsEntry(
        bytes32 unitId, uint256 entryId, bytes32 documentHash, Consent calldata counterpartyConsent
    ) external;

    /// @notice Cancellation (注销登记). Logical: the unit and its history stay (REGISTRATION_RULES §6.4).
    /// @dev Holder ground: REGISTRAR_ROLE + holder's consent (+ risk acknowledgement under objection, + every
    /// pledgee's consent when pledgeBlocks covers it). JudicialOrder: JUDICIAL_ROLE. NoRemainingHolder:
    /// REGISTRAR_ROLE citing an order the judicial role recorded. Expired: REGISTRAR_ROLE, once validity ended
    /// (GZ art. 35). Every ground needs its document's hash.
    /// @param unitId The unit.
    /// @param ground CancellationGround.
    /// @param documentHash Application, order, or ex officio decision (for NoRemainingHolder: the recorded order).
    /// @param riskAcknowledgementHash Written risk acknowledgement while an objection stands (holder ground).
    /// @param holderConsent The holder's signature (holder ground only).
    /// @param pledgees Pledgees' consents (holder ground, when the unit is pledged).
    function cancel(
        bytes32 unitId,
        uint8 ground,
        bytes32 documentHash,
        bytes32 riskAcknowledgementHash,
        Consent calldata holderConsent,
        PledgeeConsent[] calldata pledgees
    ) external;

    /// @notice Renewal (续期): within the profile's window before expiry, extends validity by one period counted
    /// from the previous expiry (GZ art. 35) and issues a new certificate version.
    /// @dev Requires REGISTRAR_ROLE and the holder's consent. The new end (calendar years, computed off chain and
    /// signed by the holder) must lie after the old one and at most maxValidity beyond it.
    /// @param unitId The unit.
    /// @param newCertificateHash The renewed certificate.
    /// @param documentHash Renewal application/decision.
    /// @param newValidUntil The new end of validity.
    /// @param holderConsent The holder's signature.
    function renew(
        bytes32 unitId,
        bytes32 newCertificateHash,
        bytes32 documentHash,
        uint40 newValidUntil,
        Consent calldata holderConsent
    ) external;

    /// @notice Records that a unit's validity ended (anyone may call once it has).
    /// @param unitId The unit.
    function markExpired(bytes32 unitId) external;

    /// @notice Suspends (DL 中止, art. 22) or reinstates a unit.
    /// @dev Requires REGISTRAR_ROLE or JUDICIAL_ROLE; a suspension ordered by the judicial role is lifted only by
    /// it. The decision's hash is required.
    /// @param unitId The unit.
    /// @param suspended True to suspend, false to reinstate.
    /// @param documentHash The decision.
    function setSuspended(bytes32 unitId, bool suspended, bytes32 documentHash) external;

    /// @notice Revocation by the registry (撤销: fraud, major incident, final judgment ...).
    /// @dev Requires REGISTRAR_ROLE and the decision's hash (its grounds).
    /// @param unitId The unit.
    /// @param documentHash The revocation decision.
    function revoke(bytes32 unitId, bytes32 documentHash) external;

    /// @notice Records a court or arbitration order concerning a unit (SZ art. 19-20, TJIFA §6.4.5.3).
    /// @dev Requires JUDICIAL_ROLE.
    /// @param unitId The unit.
    /// @param orderHash Hash of the order.
    function recordJudicialOrder(bytes32 unitId, bytes32 orderHash) external;

    /// @notice Whether the judicial role recorded `orderHash` for `unitId`.
    /// @param unitId The unit.
    /// @param orderHash The order.
    /// @return recorded True if recorded.
    function orderRecorded(bytes32 unitId, bytes32 orderHash) external view returns (bool recorded);

    /// @notice Number of active pledges on a unit's rights page.
    /// @param unitId The unit.
    /// @return The count.
    function activePledgesOf(bytes32 unitId) external view returns (uint256);

    /// @notice Accepts an objection registration (SZ art. 20): flags the unit and starts the filing deadline, which
    /// ends at 24:00 China time of the profile's last day.
    /// @dev Requires REGISTRAR_ROLE. A lapsed objection on the same matter may not be refiled.
    /// @param unitId The unit.
    /// @param objector The interested party.
    /// @param matterHash Hash of the matter and grounds (identifies "the same objection").
    /// @param documentHash The objection application.
    /// @return objectionId keccak256(unitId, matterHash).
    function fileObjection(bytes32 unitId, address objector, bytes32 matterHash, bytes32 documentHash)
        external
        returns (bytes32 objectionId);

    /// @notice Records the court or arbitration acceptance notice lodged before the deadline.
    /// @dev Requires REGISTRAR_ROLE or JUDICIAL_ROLE.
    /// @param objectionId The objection.
    /// @param documentHash The acceptance notice.
    function recordObjectionLitigation(bytes32 objectionId, bytes32 documentHash) external;

    /// @notice Lapses an objection whose deadline passed without a filing (anyone may call).
    /// @param objectionId The objection.
    function lapseObjection(bytes32 objectionId) external;

    /// @notice Disposes of an objection per the judgment, ruling or award.
    /// @dev Requires JUDICIAL_ROLE.
    /// @param objectionId The objection.
    /// @param upheld True if decided for the objector.
    /// @param documentHash The judgment, ruling or award.
    function resolveObjection(bytes32 objectionId, bool upheld, bytes32 documentHash) external;

    /// @notice A unit (all zero if absent); `status` is as stored — see statusOf for expiry.
    /// @param unitId The unit.
    /// @return The unit.
    function unitOf(bytes32 unitId) external view returns (Unit memory);

    /// @notice Effective status: Expired once validity has passed even if not yet marked.
    /// @param unitId The unit.
    /// @return The status.
    function statusOf(bytes32 unitId) external view returns (UnitStatus);

    /// @notice Holder of one right of a unit.
    /// @param unitId The unit.
    /// @param right 0 holding, 1 processing-use, 2 product-operation.
    /// @return The holder (zero if the right is not registered in the unit).
    function rightHolderOf(bytes32 unitId, uint8 right) external view returns (address);

    /// @notice A rights-page entry.
    /// @param entryId The entry.
    /// @return The entry.
    function rightsEntryOf(uint256 entryId) external view returns (RightsEntry memory);

    /// @notice Number of active rights-page entries of a unit (ACTIVE+ENCUMBERED when > 0).
    /// @param unitId The unit.
    /// @return The count.
    function activeEntriesOf(bytes32 unitId) external view returns (uint256);

    /// @notice An objection.
    /// @param objectionId The objection.
    /// @return The objection.
    function objectionOf(bytes32 objectionId) external view returns (Objection memory);

    /// @notice A jurisdiction profile.
    /// @param profileId The profile.
    /// @return The profile.
    function profileOf(uint8 profileId) external view returns (Profile memory);

    /// @notice The review report filed for an application (zero if none).
    /// @param applicationId The application.
    /// @return The report hash.
    function reviewOf(bytes32 applicationId) external view returns (bytes32);

    /// @notice The digest a signer signs for a consent.
    /// @param unitId The unit (or application id for declarations).
    /// @param action The Action consented to.
    /// @param paramsHash keccak256 of the action's ABI-encoded parameters.
    /// @param nonce The signer's nonce.
    /// @param deadline The consent's deadline.
    /// @return The EIP-712 digest.
    function consentDigest(bytes32 unitId, uint8 action, bytes32 paramsHash, uint256 nonce, uint256 deadline)
        external
        view
        returns (bytes32);

    /// @notice Semantic version of the rules this contract implements.
    /// @return The version string.
    function version() external pure returns (string memory);
}
