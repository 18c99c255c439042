import Foundation
import RotorCore
import Testing

struct NameTests {
    @Test(arguments: ["billing", "a", "0app", "my-app.prod_1"])
    func validNames(name: String) throws {
        #expect(try Validate.name(name) == name)
    }

    @Test(arguments: ["", "Billing", "-app", ".app", "a/b", "a b", "a\nb", "é", String(repeating: "a", count: 65)])
    func invalidNames(name: String) {
        #expect(throws: RotorError.self) { try Validate.name(name) }
    }
}
