import Foundation
import RotorCore
import Testing

/// One canonical text for a JSON value, however its object was built.
struct JSONValueTests {
    @Test func objectsKeepTheirMembersInCodePointOrder() {
        let ordered = JSONObject(members: [("a", 1), ("b", 2), ("é", 3), ("z", 4)])
        let shuffled = JSONObject(members: [("z", 4), ("é", 3), ("a", 1), ("b", 2)])
        let fromDictionary = JSONObject(["b": 2, "z": 4, "a": 1, "é": 3])
        #expect(ordered.keys == ["a", "b", "z", "é"])
        #expect(shuffled == ordered && fromDictionary == ordered)
        #expect(JSONValue.object(shuffled).canonical == #"{"a":1,"b":2,"z":4,"é":3}"#)
        let literal: JSONValue = ["z": 4, "é": 3, "a": 1, "b": 2]
        #expect(literal == .object(ordered))
    }

    @Test func aRepeatedKeyKeepsItsLastValue() {
        #expect(JSONObject(members: [("b", 1), ("a", 2), ("b", 3)]) == JSONObject(["a": 2, "b": 3]))
    }

    @Test func settingAMemberKeepsTheOrder() {
        var object = JSONObject(members: [("b", 2), ("d", 4)])
        object["c"] = 3
        object["a"] = 1
        object["e"] = 5
        object["d"] = 40
        #expect(object.keys == ["a", "b", "c", "d", "e"])
        #expect(object["d"] == 40)
        object["b"] = nil
        object["x"] = nil
        #expect(object.keys == ["a", "c", "d", "e"])
        #expect(JSONValue.object(object).canonical == #"{"a":1,"c":3,"d":40,"e":5}"#)
        #expect(object["b"] == nil && object.count == 4)
    }

    @Test func parsedTextWritesBackCanonically() throws {
        let parsed = try #require(JSONValue.parse(#"{"z":[1,{"y":null,"b":true}],"a":"x\n"}"#))
        #expect(parsed.canonical == #"{"a":"x\n","z":[1,{"b":true,"y":null}]}"#)
    }
}
