/// Checks a pair with a client-credentials grant before Rotor stores it.
public struct VendorPairChecker: PairChecker {
    public let api: any VendorAPI

    public init(api: any VendorAPI) {
        self.api = api
    }

    public func check(clientID: String, secret: Secret, apiURL: String) async throws {
        do {
            _ = try await api.clientCredentialsGrant(apiURL: apiURL, clientID: clientID, secret: secret)
        } catch  where error.kind == .invalidCredentials {
            throw RotorError(
                .pairRejected,
                "the vendor rejected client ID \(clientID) with this secret (\(error.message)); nothing was stored. Check the pair, or pass --no-verify to store it unchecked"
            )
        } catch  where error.kind == .networkError {
            throw RotorError(
                .vendorUnavailable,
                "could not reach the vendor at \(apiURL) (\(error)); nothing was stored. Check --api-url (`rotor sandbox` prints its URL), try again, or pass --no-verify"
            )
        } catch {
            throw RotorError(
                .vendorUnavailable,
                "could not check the pair with the vendor at \(apiURL) (\(error)); nothing was stored. Try again, or pass --no-verify"
            )
        }
    }
}
