import Foundation

extension RotationEngine {
    /// The resolution table of `rotation.md` for a rotation left in
    /// `requesting`: find out what the vendor did before doing anything.
    /// `answered`: this process got the vendor's answer to the rotate
    /// request (a 429 or 5xx, say), so no request of it is still in flight.
    func resolveRequesting(
        _ rotation: inout RotationContext, answered: Bool = false, retryAfter: TimeInterval? = nil
    ) async throws {
        // The app as it is now: an identity may have been attached since the rotation began.
        let appID = rotation.app.id
        let app = try await ledger.read { try $0.app(id: appID) } ?? rotation.app
        rotation.app = app
        let record = rotation.record
        // Row 1: the stored (old) pair still gets a token: the vendor did not rotate.
        let pair: ClientPair
        if let known = rotation.currentPair { pair = known } else { pair = try await currentPair(app) }
        var rejection: VendorError?
        do throws(VendorError) {
            _ = try await api.clientCredentialsGrant(apiURL: app.apiURL, clientID: pair.clientID, secret: pair.secret)
        } catch {
            rejection = error
        }
        switch rejection {
        case nil:
            // Row 2: a request that may still be in flight could yet rotate: learn nothing until it cannot be.
            let settled = record.startedAt.addingTimeInterval(inFlightWindow)
            if !answered, ledger.clock.now < settled {
                return try await transition(
                    &rotation, to: .requesting, error: Self.inFlightNote, nextAttemptAt: settled)
            }
            rotation.record.refusal = .transient(retryAfter: retryAfter)
            return try await transition(
                &rotation, to: .aborted, error: "the vendor did not rotate: the stored pair still works")
        case let error? where error.kind == .invalidCredentials:
            break  // The vendor rotated and the answer was lost. Rows 3 to 5.
        case let error?:
            // Row 6: nothing learned. Stay `requesting`; never guess.
            return try await transition(
                &rotation, to: .requesting, error: "could not learn what the vendor did: \(error)")
        }

        // Row 3: the token that authorised the lost request is still valid.
        if let sealed = record.authToken {
            let token = try ledger.keyring.open(sealed, for: .rotationAuth(rotationID: record.id))
            switch await validity(of: token, app: app) {
            case .valid:
                return try await rotateAgain(&rotation, token: token, via: "the original token")
            case .invalid: break
            case .unknown(let error):
                return try await transition(
                    &rotation, to: .requesting, error: "could not check the original token: \(error)")
            }
        }
        // Row 4: the app has an identity.
        if let identityID = app.identityID {
            do {
                let token = try await identities.accessToken(identityID: identityID)
                return try await rotateAgain(&rotation, token: token, via: "its identity's token")
            } catch let error as RotorError where error.code == .vendorUnavailable {
                return try await transition(&rotation, to: .requesting, error: error.message)
            } catch let error as RotorError {
                return try await transition(
                    &rotation, to: .lost, error: "no valid token: the identity failed too (\(error.message))")
            }
        }
        // Row 5: no valid token of any kind. The new pair exists only at the vendor.
        try await transition(
            &rotation, to: .lost, error: "the vendor rotated, the answer was lost and no valid token is left")
    }

    enum Validity {
        case valid, invalid
        case unknown(VendorError)
    }

    func validity(of token: Secret, app: AppRecord) async -> Validity {
        do {
            return try await api.validate(apiURL: app.apiURL, token: token) ? .valid : .invalid
        } catch {
            return .unknown(error)
        }
    }

    /// Rows 3 and 4: rotate again with a token known to be valid, and store
    /// the pair it returns (`rotation.recovered`). An ambiguous outcome leaves
    /// the rotation `requesting` for the next run.
    func rotateAgain(_ rotation: inout RotationContext, token: Secret, via: String) async throws {
        let app = rotation.app
        do {
            let pair = try await api.rotateCredentials(
                apiURL: app.apiURL, token: token, applicationID: app.applicationID)
            try await store(pair, in: &rotation, source: .recovered)
            Self.count(app.name, outcome: "recovered")
        } catch let error as VendorError {
            try await transition(
                &rotation, to: .requesting, error: "recovery with \(via) did not complete: \(error)")
        }
    }

    /// The spilled pair as the rotation's new version, if the rotation still waits for it.
    private func importSpill(_ spill: SpillFile, tx: LedgerTransaction) throws -> RotationRecord? {
        guard let record = try tx.store.rotation(id: spill.rotationID), let app = try tx.store.app(id: spill.appID)
        else { return nil }
        guard record.state == .requesting || record.state == .lost, app.currentVersion == record.fromVersion
        else { return nil }
        // A lost rotation whose pair turned up is open again (the state machine allows lost → rotated).
        return try storeRotatedPair(
            ClientPair(clientID: spill.clientID, secret: spill.clientSecret), for: record, source: .imported, tx: tx)
    }

    /// Imports every spill file left beside the database into its rotation,
    /// each under its app's lease; a file whose app another process holds
    /// is left for the next pass.
    func importSpills() async throws -> [RotationOutcome] {
        var outcomes: [RotationOutcome] = []
        for path in SpillFile.paths(database: databasePath) {
            let spill = try SpillFile.read(path, keyring: ledger.keyring)
            let appID = spill.appID
            let imported: RotationRecord?
            if let app = try await ledger.read({ try $0.app(id: appID) }) {
                do {
                    // Under the app's lease: no other process is resolving this rotation meanwhile.
                    imported = try await withLease(app) { lease in
                        try await ledger.commit { tx in
                            try tx.fence(lease)
                            return try importSpill(spill, tx: tx)
                        }
                    }
                } catch let error as RotorError where error.code == .busy {
                    continue  // Another process holds the app; the next pass tries again.
                }
            } else {
                imported = nil
            }
            if imported != nil {
                try? Files.remove(path)
            } else if try await ledger.read({ reader in
                // Already imported: the stored pair is the spilled one.
                guard let record = try reader.rotation(id: spill.rotationID), let version = record.toVersion,
                    let credential = try reader.credential(appID: spill.appID, version: version)
                else { return false }
                return credential.fingerprint == ledger.keyring.fingerprint(spill.clientSecret)
            }) {
                try? Files.remove(path)
            } else {
                let name = try await ledger.read { try $0.app(id: spill.appID)?.name } ?? "app \(spill.appID)"
                outcomes.append(
                    RotationOutcome(
                        app: name, rotationID: spill.rotationID, state: nil,
                        message:
                            "spill file \(path) does not match rotation \(spill.rotationID) any more; it was kept. `rotor secret show` and the file's rotation history tell which pair is current",
                        exitStatus: .operatorAction))
            }
        }
        return outcomes
    }
}
