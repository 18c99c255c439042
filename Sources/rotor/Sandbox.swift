import ArgumentParser
import Foundation
import RotorCore
import VitaleraSandbox

extension Rotor {
    struct Sandbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sandbox",
            abstract: "Serve a local imitation of the vitalera API, for trials and tests.",
            discussion: """
                All five endpoints, real signed JWTs, the old pair dead the instant a rotation \
                answers. Prints a demo application's credentials and a demo user. Faults are \
                switched on with POST /_sandbox/faults. Runs until SIGINT or SIGTERM.
                """)

        @Option(help: "The port (0 picks a free one).") var port = 8080
        @Option(help: "The address to bind; loopback unless you say otherwise.") var host = "127.0.0.1"
        @Option(
            name: .customLong("token-lifetime"), help: ArgumentHelp("Access token lifetime.", valueName: "duration"))
        var tokenLifetime = "1h"
        @Flag(
            name: .customLong("revoke-tokens-on-rotation"),
            help: "Tokens issued before a rotation stop working after it.")
        var revokeTokensOnRotation = false

        func run() async throws {
            try await reporting {
                let lifetime = try DurationText.parse(tokenLifetime, option: "--token-lifetime")
                guard lifetime > 0 else { throw RotorError(.invalidInput, "--token-lifetime must be longer than 0s") }
                if !Validate.isLoopback(host) {
                    Console.note(
                        "the sandbox listens on \(host), not loopback: anyone who can reach it can use its demo credentials"
                    )
                }
                if port != 0 { try await OpsServer.checkBindable(host: host, port: port, option: "--port") }
                let vendor = SandboxVendor(
                    settings: SandboxSettings(
                        tokenLifetime: Int(lifetime), tokensSurviveRotation: !revokeTokensOnRotation))
                let application = await vendor.addApplication(
                    name: "Demo App", organization: "org-demo", id: "app-demo")
                let user = await vendor.addUser(username: "admin@demo.example", organization: "org-demo")
                let host = self.host
                try await OpsServer.listening(host: host, port: port, option: "--port") {
                    try await SandboxServer(vendor: vendor).run(host: host, port: port, signals: true) { bound in
                        let url = "http://\(host.contains(":") ? "[\(host)]" : host):\(bound)"
                        Console.out(
                            """
                            vitalera sandbox listening on \(url)

                            Demo application:
                              application id  \(application.id)
                              client id       \(application.clientID)
                              client secret   \(application.clientSecret)
                            Demo user (for `rotor identity add`):
                              username        \(user.username)
                              password        \(user.password)

                            Try it:
                              rotor init
                              echo '\(application.clientSecret)' | rotor app add demo --application-id \(application.id) \\
                                  --client-id \(application.clientID) --client-secret-stdin --api-url \(url)

                            Faults (endpoint: grant, password, refresh, validate, rotate):
                              curl -X POST \(url)/_sandbox/faults -d '{"endpoint":"rotate","status":503,"retry_after":5}'
                              curl -X POST \(url)/_sandbox/faults -d '{"endpoint":"rotate","after_commit":"drop"}'
                              curl -X POST \(url)/_sandbox/faults -d '{"endpoint":"grant","latency_ms":2000,"count":3}'
                              curl -X DELETE \(url)/_sandbox/faults
                            More applications: curl -X POST \(url)/_sandbox/applications -d '{"name":"Billing"}'
                            State: curl \(url)/_sandbox/applications   Settings: curl \(url)/_sandbox/settings
                            """)
                    }
                }
            }
        }
    }
}
