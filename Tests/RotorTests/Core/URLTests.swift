import Foundation
import RotorCore
import Testing

struct URLTests {
    @Test(arguments: [
        "https://api.vitalera.io", "https://api.vitalera.io/", "http://localhost:8080", "http://127.0.0.1:9",
        "http://127.1.2.3", "http://[::1]:8080",
    ])
    func accepted(url: String) throws {
        #expect(try !Validate.apiURL(url).hasSuffix("/"))
    }

    @Test(arguments: [
        "http://api.vitalera.io", "http://10.0.0.1", "http://128.0.0.1", "ftp://x", "api.vitalera.io",
        "https://user:pw@api.vitalera.io", "http://localhost.evil.com", "http://127.0.0.1.evil.com",
    ])
    func refused(url: String) {
        #expect(throws: RotorError.self) { try Validate.apiURL(url) }
    }
}
