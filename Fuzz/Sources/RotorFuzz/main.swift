import CFuzzDriver
import Foundation

/// The target this process fuzzes: `ROTOR_FUZZ_TARGET`, one of
/// ``FuzzTargets/all``' names (libFuzzer's own argv is its flags and corpus).
let selected: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["ROTOR_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.all.first(where: { $0.name == name }) else {
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("rotor-fuzz: set ROTOR_FUZZ_TARGET to one of \(names)\n".utf8))
        exit(64)
    }
    return target
}()
_ = selected.name

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(
    LLVMFuzzerRunDriver(&argc, &argv) { data, size in
        selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    })
