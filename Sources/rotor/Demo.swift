import ArgumentParser
import Foundation
import RotorCore
import RotorSQLite
import VitaleraClient
import VitaleraSandbox

extension Rotor {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "demo",
            abstract: "A guided rotation in a temporary folder against an in-process sandbox vendor.",
            discussion: "Needs no network and no set-up. Nothing outside the temporary folder is touched.")

        @Flag(help: "Keep the temporary folder and print where it is.") var keep = false

        func run() async throws {
            try await reporting {
                let directory = try makeTemporaryDirectory()
                defer {
                    if !keep { try? FileManager.default.removeItem(atPath: directory) }
                }
                try await demo(in: directory)
                if keep { Console.out("\nThe demo's files are in \(directory).") }
            }
        }

        func demo(in directory: String) async throws {
            let vendor = SandboxVendor()
            let application = await vendor.addApplication(name: "Demo App", organization: "org-demo", id: "app-demo")
            let sandbox = try await SandboxServer.start(vendor: vendor)
            defer { Task { await sandbox.stop() } }
            let databasePath = "\(directory)/rotor.db"
            let keyPath = "\(directory)/rotor.db.key"

            step("1. rotor init")
            let store = try OpenStores.register(SQLiteStore.open(path: databasePath, create: true))
            let ledger = try await Ledger.initialize(
                store: store, key: .file(keyPath), clock: SystemClock(), actor: "demo@rotor"
            )
            .ledger
            Console.out("   database \(databasePath) and master key \(keyPath), both mode 0600")

            try await VitaleraHTTPClient.with(retry: .interactive) { api in
                step("2. rotor app add billing --application-id app-demo --client-id … --client-secret-stdin")
                let registry = AppRegistry(ledger: ledger, checker: VendorPairChecker(api: api))
                try await registry.add(
                    AppSpec(
                        name: "billing", applicationID: application.id, clientID: application.clientID,
                        clientSecret: Secret(application.clientSecret), apiURL: sandbox.url,
                        schedule: .every(seconds: 30 * 86400)),
                    verify: true)
                let before = try await registry.list()[0]
                Console.out("   the pair passed a client-credentials grant at the sandbox (\(sandbox.url))")
                Console.out("   stored encrypted as version 1, fingerprint \(before.credential.fingerprint)")

                step("3. rotor target add billing --file \(directory)/billing.env")
                let targetPath = "\(directory)/billing.env"
                try await TargetRegistry(ledger: ledger).add(app: "billing", .file(FileTarget(path: targetPath)))
                Console.out("   each new pair will be written there atomically, mode 600, in env format")

                step("4. rotor rotate billing")
                let delivery = DeliveryService(ledger: ledger)
                let engine = RotationEngine(
                    ledger: ledger, api: api, databasePath: databasePath, deliverer: delivery, alerts: delivery.alerts)
                let outcome = try await engine.rotate("billing")
                Console.out("   \(outcome.message)")
                let after = try await registry.list()[0]
                Console.out(
                    "   version \(before.credential.version) → \(after.credential.version), fingerprint \(before.credential.fingerprint) → \(after.credential.fingerprint)"
                )
                let oldWorks = await works(
                    api, sandbox.url, before.credential.clientID, Secret(application.clientSecret))
                let current = await vendor.application(application.id)!
                let newWorks = await works(api, sandbox.url, current.clientID, Secret(current.clientSecret))
                Console.out(
                    "   the vendor now \(oldWorks ? "still accepts" : "rejects") the old pair and \(newWorks ? "accepts" : "rejects") the stored one"
                )

                step("5. the published file, \(targetPath)")
                let published = String(decoding: try Files.read(targetPath, limit: 65536), as: UTF8.self)
                for line in published.split(separator: "\n") {
                    // The secret itself stays off the screen; its fingerprint matches the stored version.
                    if line.hasPrefix("VITALERA_CLIENT_SECRET=") {
                        let secret = Secret(String(line.dropFirst("VITALERA_CLIENT_SECRET=".count)))
                        let fingerprint = ledger.keyring.fingerprint(secret)
                        Console.out("   VITALERA_CLIENT_SECRET=<hidden: fingerprint \(fingerprint)>")
                    } else {
                        Console.out("   \(line)")
                    }
                }
                let mode = String(Files.mode(targetPath) ?? 0, radix: 8)
                Console.out("   mode \(mode), version \(after.credential.version)")

                step("6. rotor history")
                let history = try await RotationHistory(ledger: ledger).list(app: nil, limit: 10)
                Console.table(
                    ["ID", "APP", "TRIGGER", "STATE", "STARTED", "FINISHED"],
                    history.map {
                        [
                            String($0.rotation.id), $0.app, $0.rotation.trigger.rawValue, $0.rotation.state.rawValue,
                            RFC3339.format($0.rotation.startedAt), $0.rotation.finishedAt.map(RFC3339.format) ?? "-",
                        ]
                    }, indent: "   ")

                step("7. rotor audit")
                let events = try await ledger.read { try $0.auditEvents(ids: 1...1000) }
                Console.table(
                    ["ID", "ACTION", "OUTCOME", "APP", "DETAIL"],
                    events.map { [String($0.id), $0.action, $0.outcome, $0.app ?? "-", $0.detail] }, indent: "   ")
                let verification = try await AuditLog(ledger: ledger).verify()
                Console.out(
                    "   rotor audit verify: \(verification.isIntact ? "the hash chain of \(verification.checked) events is intact" : "BROKEN: \(verification.firstBreak!)")"
                )

                step("What happened")
                Console.out(
                    """
                       Rotor recorded its intent (and the token authorising it) before asking the vendor
                       to rotate, stored the new pair encrypted before doing anything else with it,
                       proved it with a client-credentials grant, delivered it to the file target, and
                       recorded each step in a hash-chained audit log in the same transaction as the step.
                       Had the process died or the answer been lost at any point, `rotor run --once`
                       would have found out what the vendor did and finished the job, or said exactly
                       what an operator must do. No secret was printed: listings show fingerprints only.
                    """)
            }
        }

        func works(_ api: VitaleraHTTPClient, _ url: String, _ clientID: String, _ secret: Secret) async -> Bool {
            (try? await api.clientCredentialsGrant(apiURL: url, clientID: clientID, secret: secret)) != nil
        }

        func step(_ title: String) {
            Console.out("\n\(title)")
        }

        func makeTemporaryDirectory() throws -> String {
            var template = Array(
                (NSTemporaryDirectory() as NSString).appendingPathComponent("rotor-demo.XXXXXX").utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw RotorError(.io, "cannot create a temporary folder in \(NSTemporaryDirectory())")
            }
            return String(cString: made)
        }
    }
}
