// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

import {JUDICIAL_ROLE, REGISTRAR_ROLE, REVIEWER_ROLE, RegistryUnauthorized} from "./Common.sol";
import {IAssetRegistry} from "./IAssetRegistry.sol";

/// @title AssetRegistry — registration units, their rights, lifecycle and additional-rights page
/// @notice Implements the unit state machine of REGISTRATION_RULES §3.8 with per-jurisdiction profiles (§9).
/// The registrar relays every transition; holders and counterparties consent with EIP-712 signatures.
contract AssetRegistry is IAssetRegistry, AccessControlDefaultAdminRules, EIP712, Nonces {
    /// @dev EIP-712 type of every consent; `paramsHash` binds the action's parameters.
    bytes32 public constant CONSENT_TYPEHASH =
        keccak256("Consent(bytes32 unitId,uint8 action,bytes32 paramsHash,uint256 nonce,uint256 deadline)");

    uint8 private constant _ALL_RIGHTS = 0x07; // holding | processing-use | product-operation
    uint8 private constant _HOLDING_RIGHT = 0x01;
    uint8 private constant _MAX_OBJECT_TYPE = 7;
    uint8 private constant _PLEDGE_BLOCKS_TRANSFER = 0x01;
    uint8 private constant _PLEDGE_BLOCKS_CANCELLATION = 0x02;
    /// @dev China Standard Time (UTC+8): deadlines in days end at 24:00 of the last day there.
    uint256 private constant _CHINA_OFFSET = 8 hours;

    mapping(bytes32 unitId => Unit) private _units;
    mapping(bytes32 unitId => mapping(uint8 right => address holder)) private _rightHolders;
    mapping(uint256 entryId => RightsEntry) private _entries;
    mapping(bytes32 unitId => uint256 count) private _activeEntries;
    mapping(bytes32 objectionId => Objection) private _objections;
    mapping(bytes32 applicationId => bytes32 reportHash) private _reviews;
    mapping(uint8 profileId => Profile) private _profiles;
    uint256 private _entryCount;
    mapping(bytes32 unitId => uint256 count) private _activePledges;
    mapping(bytes32 unitId => mapping(bytes32 orderHash => bool recorded)) private _orders;
    mapping(bytes32 unitId => bool byCourt) private _suspendedByCourt;

    /// @param initialAdminDelay Seconds a scheduled admin transfer must wait (OpenZeppelin default admin rules).
    /// @param initialAdmin The first admin.
    constructor(uint48 initialAdminDelay, address initialAdmin)
        AccessControlDefaultAdminRules(initialAdminDelay, initialAdmin)
        EIP712("DataAssetRegistry", "1")
    {}

    modifier onlyRoleHolder(bytes32 role) {
        if (!hasRole(role, msg.sender)) revert RegistryUnauthorized(msg.sender, role);
        _;
    }

    // --- configuration and workflow evidence -------------------------------------------------------------

    /// @inheritdoc IAssetRegistry
    function setProfile(uint8 profileId, Profile calldata profile) external onlyRoleHolder(DEFAULT_ADMIN_ROLE) {
        if (profileId == 0 || !profile.exists) revert ProfileUnknown(profileId);
        _profiles[profileId] = profile;
        emit ProfileSet(profileId, profile);
    }

    /// @inheritdoc IAssetRegistry
    function recordReview(bytes32 applicationId, bytes32 reportHash) external onlyRoleHolder(REVIEWER_ROLE) {
        if (reportHash == bytes32(0) || applicationId == bytes32(0)) revert ZeroValue();
        if (_reviews[applicationId] != bytes32(0)) revert ReviewAlreadyRecorded(applicationId);
        _reviews[applicationId] = reportHash;
        emit ReviewRecorded(applicationId, msg.sender, reportHash);
    }

    /// @inheritdoc IAssetRegistry
    function recordDeclaration(
        bytes32 applicationId, address declarant, bytes32 declarationHash, Consent calldata consent
    ) external onlyRoleHolder(REGISTRAR_ROLE) {
        if (declarationHash == bytes32(0) || applicationId == bytes32(0)) revert ZeroValue();
        _consume(declarant, applicationId, uint8(Action.Declaration), keccak256(abi.encode(declarationHash)), consent);
        emit DeclarationRecorded(applicationId, declarant, declarationHash);
    }

    // --- registrations -----------------------------------------------------------------------------------

    /// @inheritdoc IAssetRegistry
    function registerInitial(InitialRegistration calldata r, Consent calldata holderConsent)
        external
        onlyRoleHolder(REGISTRAR_ROLE)
        returns (bytes32 unitId)
    {
        unitId = keccak256(bytes(r.registrationNumber));
        if (bytes(r.registrationNumber).length == 0 || r.certificateHash == bytes32(0) || r.holder == address(0)) {
            revert ZeroValue();
        }
        if (_units[unitId].status != uint8(UnitStatus.None)) revert UnitAlreadyRegistered(unitId);
        Profile memory profile = _profile(r.profileId);
        if (r.objectType == 0 || r.objectType > _MAX_OBJECT_TYPE || profile.allowedObjectTypes & (1 << r.objectType) == 0)
        {
            revert ObjectTypeNotAllowed(r.profileId, r.objectType);
        }
        if (r.rightsMask == 0 || r.rightsMask & ~_ALL_RIGHTS != 0) revert InvalidRights(r.rightsMask);
        if (profile.requiresReview && _reviews[r.applicationId] == bytes32(0)) revert ReviewMissing(r.applicationId);
        _consume(
            r.holder,
            unitId,
            uint8(Action.Initial),
            keccak256(
                abi.encode(
                    r.applicationId, r.holder, r.objectType, r.profileId, r.rightsMask, r.certificateHash,
                    r.documentHash, r.validUntil
                )
            ),
            holderConsent
        );
        uint40 validUntil = r.validUntil;
        _checkValidity(validUntil, block.timestamp, profile.maxValidity);
        _units[unitId] = Unit({
            certificateHash: r.certificateHash,
            holder: r.holder,
            validUntil: validUntil,
            certificateVersion: 1,
            status: uint8(UnitStatus.Active),
            objectType: r.objectType,
            profileId: r.profileId,
            rightsMask: r.rightsMask,
            openObjections: 0
        });
        emit UnitRegistered(
            unitId, r.holder, r.registrationNumber, r.objectType, r.profileId, r.rightsMask, validUntil
        );
        emit CertificateIssued(unitId, 1, r.certificateHash, bytes32(0));
        emit RegistrationRecorded(unitId, uint8(Action.Initial), r.documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function reissue(
        bytes32 unitId, uint8 action, bytes32 newCertificateHash, bytes32 documentHash,
        bytes32 riskAcknowledgementHash, Consent calldata holderConsent
    ) external onlyRoleHolder(REGISTRAR_ROLE) {
        if (action != uint8(Action.Supplementary) && action != uint8(Action.Change)) revert InvalidAction(action);
        Unit storage unit = _activeUnit(unitId);
        _checkObjections(unitId, unit, action, riskAcknowledgementHash);
        _consume(
            unit.holder, unitId, action,
            keccak256(abi.encode(newCertificateHash, documentHash, riskAcknowledgementHash)), holderConsent
        );
        _issueCertificate(unitId, unit, newCertificateHash);
        emit RegistrationRecorded(unitId, action, documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function transfer(
        bytes32 unitId,
        TransferRequest calldata request,
        Consent calldata fromConsent,
        Consent calldata toConsent,
        PledgeeConsent[] calldata pledgees
    ) external onlyRoleHolder(REGISTRAR_ROLE) {
        if (request.to == address(0)) revert ZeroValue();
        Unit storage unit = _activeUnit(unitId);
        address from = _holderOfRights(unitId, unit, request.rightsMask);
        _checkObjections(unitId, unit, uint8(Action.Transfer), request.riskAcknowledgementHash);
        bytes32 paramsHash = keccak256(abi.encode(request));
        Profile storage profile = _profiles[unit.profileId];
        if (profile.pledgeBlocks & _PLEDGE_BLOCKS_TRANSFER != 0) {
            _checkPledgees(unitId, uint8(Action.Transfer), paramsHash, pledgees);
        }
        if (profile.jointFiling) {
            _consume(from, unitId, uint8(Action.Transfer), paramsHash, fromConsent);
        }
        _consume(request.to, unitId, uint8(Action.Transfer), paramsHash, toConsent);
        _moveRights(unitId, unit, request.to, request.rightsMask);
        emit RightsTransferred(unitId, from, request.to, request.rightsMask);
        _issueCertificate(unitId, unit, request.newCertificateHash);
        emit RegistrationRecorded(unitId, uint8(Action.Transfer), request.documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function addRightsEntry(
        bytes32 unitId, RightsEntryRequest calldata request, Consent calldata holderConsent,
        Consent calldata counterpartyConsent
    ) external onlyRoleHolder(REGISTRAR_ROLE) returns (uint256 entryId) {
        if (request.action != uint8(Action.Licence) && request.action != uint8(Action.Pledge)) {
            revert InvalidAction(request.action);
        }
        if (request.counterparty == address(0)) revert ZeroValue();
        if (request.validUntil != 0 && request.validUntil <= block.timestamp) {
            revert EntryTermInvalid(request.validUntil);
        }
        Unit storage unit = _activeUnit(unitId);
        address grantor = _holderOfRights(unitId, unit, request.rightsMask);
        _checkObjections(unitId, unit, request.action, request.riskAcknowledgementHash);
        bytes32 paramsHash = keccak256(abi.encode(request));
        bool pledge = request.action == uint8(Action.Pledge);
        if (pledge || _profiles[unit.profileId].jointFiling) {
            _consume(grantor, unitId, request.action, paramsHash, holderConsent); // no pledge without the pledgor
        }
        _consume(request.counterparty, unitId, request.action, paramsHash, counterpartyConsent);
        entryId = ++_entryCount;
        _entries[entryId] = RightsEntry({
            unitId: unitId,
            counterparty: request.counterparty,
            validUntil: request.validUntil,
            action: request.action,
            rightsMask: request.rightsMask,
            active: true
        });
        ++_activeEntries[unitId];
        if (pledge) ++_activePledges[unitId];
        emit RightsEntryAdded(
            unitId, entryId, request.action, request.counterparty, request.rightsMask, request.validUntil
        );
        emit RegistrationRecorded(unitId, request.action, request.documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function releaseRightsEntry(
        bytes32 unitId, uint256 entryId, bytes32 documentHash, Consent calldata counterpartyConsent
    ) external {
        RightsEntry storage entry = _entries[entryId];
        if (entry.unitId != unitId) revert EntryNotOfUnit(entryId, unitId);
        if (!entry.active) revert EntryNotActive(entryId);
        if (!hasRole(JUDICIAL_ROLE, msg.sender)) {
            if (!hasRole(REGISTRAR_ROLE, msg.sender)) revert RegistryUnauthorized(msg.sender, REGISTRAR_ROLE);
            _consume(
                entry.counterparty, entry.unitId, uint8(Action.Release), keccak256(abi.encode(entryId, documentHash)),
                counterpartyConsent
            );
        }
        entry.active = false;
        --_activeEntries[unitId];
        if (entry.action == uint8(Action.Pledge)) --_activePledges[unitId];
        emit RightsEntryReleased(entry.unitId, entryId);
        emit RegistrationRecorded(entry.unitId, uint8(Action.Release), documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function cancel(
        bytes32 unitId,
        uint8 ground,
        bytes32 documentHash,
        bytes32 riskAcknowledgementHash,
        Consent calldata holderConsent,
        PledgeeConsent[] calldata pledgees
    ) external {
        Unit storage unit = _existingUnit(unitId);
        uint8 status = _effectiveStatus(unit);
        if (status == uint8(UnitStatus.Cancelled) || status == uint8(UnitStatus.Revoked)) {
            revert UnitNotActive(unitId, status);
        }
        if (documentHash == bytes32(0)) revert GroundsMissing();
        if (ground == uint8(CancellationGround.JudicialOrder)) {
            if (!hasRole(JUDICIAL_ROLE, msg.sender)) revert RegistryUnauthorized(msg.sender, JUDICIAL_ROLE);
        } else {
            if (!hasRole(REGISTRAR_ROLE, msg.sender)) revert RegistryUnauthorized(msg.sender, REGISTRAR_ROLE);
            if (ground == uint8(CancellationGround.Holder)) {
                // A suspended unit is under the registry's or a court's hold: only an order may cancel it.
                if (status == uint8(UnitStatus.Suspended)) revert UnitNotActive(unitId, status);
                _checkObjections(unitId, unit, uint8(Action.Cancellation), riskAcknowledgementHash);
                bytes32 paramsHash = keccak256(abi.encode(documentHash, riskAcknowledgementHash));
                if (_profiles[unit.profileId].pledgeBlocks & _PLEDGE_BLOCKS_CANCELLATION != 0) {
                    _checkPledgees(unitId, uint8(Action.Cancellation), paramsHash, pledgees);
                }
                _consume(unit.holder, unitId, uint8(Action.Cancellation), paramsHash, holderConsent);
            } else if (ground == uint8(CancellationGround.NoRemainingHolder)) {
                if (!_orders[unitId][documentHash]) revert OrderNotRecorded(unitId, documentHash);
            } else if (ground == uint8(CancellationGround.Expired)) {
                if (status != uint8(UnitStatus.Expired)) revert UnitNotExpired(unitId, unit.validUntil);
            } else {
                revert InvalidCancellationGround(ground);
            }
        }
        unit.status = uint8(UnitStatus.Cancelled);
        emit StatusChanged(unitId, uint8(UnitStatus.Cancelled), ground);
        emit RegistrationRecorded(unitId, uint8(Action.Cancellation), documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function renew(
        bytes32 unitId,
        bytes32 newCertificateHash,
        bytes32 documentHash,
        uint40 newValidUntil,
        Consent calldata holderConsent
    ) external onlyRoleHolder(REGISTRAR_ROLE) {
        Unit storage unit = _activeUnit(unitId);
        if (unit.validUntil == 0) revert UnitHasNoExpiry(unitId);
        Profile storage profile = _profiles[unit.profileId];
        uint256 opensAt = uint256(unit.validUntil) - profile.renewalWindow;
        if (block.timestamp < opensAt) revert RenewalWindowClosed(unitId, opensAt, unit.validUntil);
        // counted from the previous expiry (GZ art. 35): later than it, by at most one validity period
        if (newValidUntil <= unit.validUntil) revert ValidityInvalid(newValidUntil, unit.validUntil);
        _checkValidity(newValidUntil, unit.validUntil, profile.maxValidity);
        _consume(
            unit.holder, unitId, uint8(Action.Renewal),
            keccak256(abi.encode(newCertificateHash, documentHash, newValidUntil)), holderConsent
        );
        unit.validUntil = newValidUntil;
        emit ValidityExtended(unitId, newValidUntil);
        _issueCertificate(unitId, unit, newCertificateHash);
        emit RegistrationRecorded(unitId, uint8(Action.Renewal), documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function markExpired(bytes32 unitId) external {
        Unit storage unit = _existingUnit(unitId);
        if (unit.status != uint8(UnitStatus.Active) || _effectiveStatus(unit) != uint8(UnitStatus.Expired)) {
            revert UnitNotExpired(unitId, unit.validUntil);
        }
        unit.status = uint8(UnitStatus.Expired);
        emit StatusChanged(unitId, uint8(UnitStatus.Expired), 0);
    }

    /// @inheritdoc IAssetRegistry
    function setSuspended(bytes32 unitId, bool suspended, bytes32 documentHash) external {
        bool court = hasRole(JUDICIAL_ROLE, msg.sender);
        if (!court && !hasRole(REGISTRAR_ROLE, msg.sender)) revert RegistryUnauthorized(msg.sender, REGISTRAR_ROLE);
        if (documentHash == bytes32(0)) revert GroundsMissing();
        Unit storage unit = _existingUnit(unitId);
        if (suspended) {
            uint8 status = _effectiveStatus(unit);
            if (status != uint8(UnitStatus.Active)) revert UnitNotActive(unitId, status);
            unit.status = uint8(UnitStatus.Suspended);
            _suspendedByCourt[unitId] = court;
        } else {
            if (unit.status != uint8(UnitStatus.Suspended)) revert UnitNotSuspended(unitId, unit.status);
            // only the judicial role lifts a suspension it ordered
            if (_suspendedByCourt[unitId] && !court) revert RegistryUnauthorized(msg.sender, JUDICIAL_ROLE);
            unit.status = uint8(UnitStatus.Active);
            _suspendedByCourt[unitId] = false;
        }
        emit StatusChanged(unitId, unit.status, 0);
        emit RegistrationRecorded(
            unitId, uint8(suspended ? Action.Suspension : Action.Reinstatement), documentHash, msg.sender
        );
    }

    /// @inheritdoc IAssetRegistry
    function revoke(bytes32 unitId, bytes32 documentHash) external onlyRoleHolder(REGISTRAR_ROLE) {
        Unit storage unit = _existingUnit(unitId);
        uint8 status = _effectiveStatus(unit);
        if (status == uint8(UnitStatus.Cancelled) || status == uint8(UnitStatus.Revoked)) {
            revert UnitNotActive(unitId, status);
        }
        if (documentHash == bytes32(0)) revert GroundsMissing();
        unit.status = uint8(UnitStatus.Revoked);
        emit StatusChanged(unitId, uint8(UnitStatus.Revoked), 0);
        emit RegistrationRecorded(unitId, uint8(Action.Revocation), documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function recordJudicialOrder(bytes32 unitId, bytes32 orderHash) external onlyRoleHolder(JUDICIAL_ROLE) {
        if (orderHash == bytes32(0)) revert GroundsMissing();
        _existingUnit(unitId);
        _orders[unitId][orderHash] = true;
        emit JudicialOrderRecorded(unitId, orderHash, msg.sender);
    }

    // --- objections (SZ art. 20) -------------------------------------------------------------------------

    /// @inheritdoc IAssetRegistry
    function fileObjection(bytes32 unitId, address objector, bytes32 matterHash, bytes32 documentHash)
        external
        onlyRoleHolder(REGISTRAR_ROLE)
        returns (bytes32 objectionId)
    {
        if (objector == address(0) || matterHash == bytes32(0)) revert ZeroValue();
        Unit storage unit = _existingUnit(unitId);
        uint8 status = _effectiveStatus(unit);
        if (status == uint8(UnitStatus.Cancelled) || status == uint8(UnitStatus.Revoked)) {
            revert UnitNotActive(unitId, status);
        }
        objectionId = keccak256(abi.encode(unitId, matterHash));
        Objection storage objection = _objections[objectionId];
        if (objection.status == uint8(ObjectionStatus.Lapsed)) revert ObjectionMayNotBeRefiled(objectionId);
        if (objection.status == uint8(ObjectionStatus.Pending) || objection.status == uint8(ObjectionStatus.Litigating))
        {
            revert ObjectionAlreadyOpen(objectionId);
        }
        uint256 days_ = _profiles[unit.profileId].objectionDays;
        // the last day is the acceptance day + days; the deadline is its end, 24:00 China time
        uint40 deadline =
            days_ == 0 ? 0 : uint40(((block.timestamp + _CHINA_OFFSET) / 1 days + days_ + 1) * 1 days - _CHINA_OFFSET);
        _objections[objectionId] = Objection({
            unitId: unitId, objector: objector, deadline: deadline, status: uint8(ObjectionStatus.Pending)
        });
        ++unit.openObjections;
        emit ObjectionUpdated(objectionId, unitId, objector, uint8(ObjectionStatus.Pending), deadline);
        emit RegistrationRecorded(unitId, uint8(Action.Objection), documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function recordObjectionLitigation(bytes32 objectionId, bytes32 documentHash) external {
        if (!hasRole(REGISTRAR_ROLE, msg.sender) && !hasRole(JUDICIAL_ROLE, msg.sender)) {
            revert RegistryUnauthorized(msg.sender, REGISTRAR_ROLE);
        }
        Objection storage objection = _objections[objectionId];
        if (objection.status != uint8(ObjectionStatus.Pending)) revert ObjectionNotOpen(objectionId, objection.status);
        if (objection.deadline != 0 && block.timestamp >= objection.deadline) {
            revert ObjectionDeadlinePassed(objectionId, objection.deadline);
        }
        objection.status = uint8(ObjectionStatus.Litigating);
        emit ObjectionUpdated(objectionId, objection.unitId, objection.objector, objection.status, objection.deadline);
        emit RegistrationRecorded(objection.unitId, uint8(Action.ObjectionLitigation), documentHash, msg.sender);
    }

    /// @inheritdoc IAssetRegistry
    function lapseObjection(bytes32 objectionId) external {
        Objection storage objection = _objections[objectionId];
        if (objection.status != uint8(ObjectionStatus.Pending)) revert ObjectionNotOpen(objectionId, objection.status);
        if (objection.deadline == 0 || block.timestamp < objection.deadline) {
            revert ObjectionDeadlineNotReached(objectionId, objection.deadline);
        }
        _closeObjection(objectionId, objection, ObjectionStatus.Lapsed);
    }

    /// @inheritdoc IAssetRegistry
    function resolveObjection(bytes32 objectionId, bool upheld, bytes32 documentHash)
        external
        onlyRoleHolder(JUDICIAL_ROLE)
    {
        Objection storage objection = _objections[objectionId];
        if (objection.status != uint8(ObjectionStatus.Pending) && objection.status != uint8(ObjectionStatus.Litigating))
        {
            revert ObjectionNotOpen(objectionId, objection.status);
        }
        _closeObjection(objectionId, objection, upheld ? ObjectionStatus.Upheld : ObjectionStatus.Dismissed);
        emit RegistrationRecorded(objection.unitId, uint8(Action.ObjectionResolution), documentHash, msg.sender);
    }

    // --- views -------------------------------------------------------------------------------------------

    /// @inheritdoc IAssetRegistry
    function unitOf(bytes32 unitId) external view returns (Unit memory) {
        return _units[unitId];
    }

    /// @inheritdoc IAssetRegistry
    function statusOf(bytes32 unitId) external view returns (UnitStatus) {
        return UnitStatus(_effectiveStatus(_units[unitId]));
    }

    /// @inheritdoc IAssetRegistry
    function rightHolderOf(bytes32 unitId, uint8 right) public view returns (address) {
        Unit storage unit = _units[unitId];
        if (right > 2 || unit.rightsMask & (1 << right) == 0) return address(0);
        address explicitHolder = _rightHolders[unitId][right];
        return explicitHolder == address(0) ? unit.holder : explicitHolder;
    }

    /// @inheritdoc IAssetRegistry
    function rightsEntryOf(uint256 entryId) external view returns (RightsEntry memory) {
        return _entries[entryId];
    }

    /// @inheritdoc IAssetRegistry
    function activeEntriesOf(bytes32 unitId) external view returns (uint256) {
        return _activeEntries[unitId];
    }

    /// @inheritdoc IAssetRegistry
    function activePledgesOf(bytes32 unitId) external view returns (uint256) {
        return _activePledges[unitId];
    }

    /// @inheritdoc IAssetRegistry
    function orderRecorded(bytes32 unitId, bytes32 orderHash) external view returns (bool) {
        return _orders[unitId][orderHash];
    }

    /// @inheritdoc IAssetRegistry
    function objectionOf(bytes32 objectionId) external view returns (Objection memory) {
        return _objections[objectionId];
    }

    /// @inheritdoc IAssetRegistry
    function profileOf(uint8 profileId) external view returns (Profile memory) {
        return _profiles[profileId];
    }

    /// @inheritdoc IAssetRegistry
    function reviewOf(bytes32 applicationId) external view returns (bytes32) {
        return _reviews[applicationId];
    }

    /// @inheritdoc IAssetRegistry
    function consentDigest(bytes32 unitId, uint8 action, bytes32 paramsHash, uint256 nonce, uint256 deadline)
        public
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(CONSENT_TYPEHASH, unitId, action, paramsHash, nonce, deadline)));
    }

    /// @inheritdoc IAssetRegistry
    function version() external pure returns (string memory) {
        return "2.0.0";
    }

    // --- internals ---------------------------------------------------------------------------------------

    function _profile(uint8 profileId) private view returns (Profile memory profile) {
        profile = _profiles[profileId];
        if (!profile.exists) revert ProfileUnknown(profileId);
    }

    function _existingUnit(bytes32 unitId) private view returns (Unit storage unit) {
        unit = _units[unitId];
        if (unit.status == uint8(UnitStatus.None)) revert UnitNotFound(unitId);
    }

    /// @dev A unit that may be disposed of: registered, active and within its validity.
    function _activeUnit(bytes32 unitId) private view returns (Unit storage unit) {
        unit = _existingUnit(unitId);
        uint8 status = _effectiveStatus(unit);
        if (status != uint8(UnitStatus.Active)) revert UnitNotActive(unitId, status);
    }

    function _effectiveStatus(Unit storage unit) private view returns (uint8) {
        uint8 status = unit.status;
        if (status == uint8(UnitStatus.Active) && unit.validUntil != 0 && block.timestamp >= unit.validUntil) {
            return uint8(UnitStatus.Expired);
        }
        return status;
    }

    /// @dev The single account holding every right in `rightsMask` (they must all be registered in the unit).
    function _holderOfRights(bytes32 unitId, Unit storage unit, uint8 rightsMask) private view returns (address holder) {
        if (rightsMask == 0 || rightsMask & ~unit.rightsMask != 0) revert InvalidRights(rightsMask);
        for (uint8 right = 0; right < 3; ++right) {
            if (rightsMask & (1 << right) == 0) continue;
            address current = rightHolderOf(unitId, right);
            if (holder == address(0)) holder = current;
            else if (current != holder) revert NotRightsHolder(unitId, holder, rightsMask);
        }
    }

    /// @dev Gives `to` the rights in `rightsMask`. A right held by the registered subject is stored implicitly
    /// (zero), so rights that stay with the old subject are pinned to it before the subject changes.
    function _moveRights(bytes32 unitId, Unit storage unit, address to, uint8 rightsMask) private {
        mapping(uint8 right => address holder) storage holders = _rightHolders[unitId];
        address oldSubject = unit.holder;
        address newSubject = rightsMask & _HOLDING_RIGHT != 0 ? to : oldSubject;
        for (uint8 right = 0; right < 3; ++right) {
            uint8 bit = uint8(1 << right);
            if (unit.rightsMask & bit == 0) continue;
            address current = holders[right] == address(0) ? oldSubject : holders[right];
            address next = rightsMask & bit != 0 ? to : current;
            address stored = next == newSubject ? address(0) : next;
            if (holders[right] != stored) holders[right] = stored;
        }
        unit.holder = newSubject;
    }

    /// @dev A validity end after `from` and at most `maxValidity` beyond it; none (0) exactly when the profile
    /// sets no expiry. Calendar years are computed off chain (leap days), hence a maximum, not a fixed length.
    function _checkValidity(uint40 validUntil, uint256 from, uint32 maxValidity) private view {
        if (maxValidity == 0 ? validUntil != 0 : (validUntil <= block.timestamp || validUntil > from + maxValidity))
        {
            revert ValidityInvalid(validUntil, from + maxValidity);
        }
    }

    /// @dev Every active pledge of the unit consents (its pledgee's signature over the disposal), or the disposal
    /// is refused: the pledgee is protected (issue #9, TJIFA §8.2.2). Ids ascend, so none is counted twice.
    function _checkPledgees(bytes32 unitId, uint8 action, bytes32 paramsHash, PledgeeConsent[] calldata pledgees)
        private
    {
        uint256 active = _activePledges[unitId];
        if (active == 0) return;
        if (pledgees.length != active) revert UnitPledged(unitId, active);
        uint256 previous;
        for (uint256 i = 0; i < pledgees.length; ++i) {
            uint256 entryId = pledgees[i].entryId;
            RightsEntry storage entry = _entries[entryId];
            if (
                entryId <= previous || entry.unitId != unitId || !entry.active
                    || entry.action != uint8(Action.Pledge)
            ) revert PledgeeConsentInvalid(entryId);
            _consume(entry.counterparty, unitId, action, paramsHash, pledgees[i].consent);
            previous = entryId;
        }
    }

    /// @dev SZ art. 20: a disposal while an objection stands needs the filer's written risk acknowledgement.
    function _checkObjections(bytes32 unitId, Unit storage unit, uint8 action, bytes32 riskAcknowledgementHash)
        private
    {
        if (unit.openObjections == 0) return;
        if (riskAcknowledgementHash == bytes32(0)) revert UnitUnderObjection(unitId, unit.openObjections);
        emit RiskAcknowledged(unitId, action, riskAcknowledgementHash);
    }

    function _issueCertificate(bytes32 unitId, Unit storage unit, bytes32 certificateHash) private {
        if (certificateHash == bytes32(0)) revert ZeroValue();
        bytes32 superseded = unit.certificateHash;
        unit.certificateHash = certificateHash;
        uint16 version_ = ++unit.certificateVersion;
        emit CertificateIssued(unitId, version_, certificateHash, superseded);
    }

    function _closeObjection(bytes32 objectionId, Objection storage objection, ObjectionStatus outcome) private {
        objection.status = uint8(outcome);
        --_units[objection.unitId].openObjections;
        emit ObjectionUpdated(objectionId, objection.unitId, objection.objector, objection.status, objection.deadline);
    }

    /// @dev Verifies `signer`'s EIP-712 consent (EOA or ERC-1271 contract wallet) and burns its nonce.
    function _consume(address signer, bytes32 unitId, uint8 action, bytes32 paramsHash, Consent calldata consent)
        private
    {
        if (consent.signature.length == 0) revert ConsentMissing(signer);
        if (block.timestamp > consent.deadline) revert ConsentExpired(signer, consent.deadline);
        bytes32 digest = consentDigest(unitId, action, paramsHash, consent.nonce, consent.deadline);
        if (!SignatureChecker.isValidSignatureNowCalldata(signer, digest, consent.signature)) {
            revert ConsentInvalid(signer);
        }
        _useCheckedNonce(signer, consent.nonce);
    }
}
