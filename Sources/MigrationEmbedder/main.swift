import Foundation

// Usage: MigrationEmbedder OUTPUT.swift NNNN_name.sql...
// Writes a Swift file that defines `embeddedMigrations`, one entry per file,
// in file-name order. The SQL goes in as base64 so no quoting can break it.

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: MigrationEmbedder OUTPUT FILE...\n".utf8))
    exit(64)
}

var source = """
    // Generated from migrations/*.sql by the EmbedMigrations plugin. Do not edit.
    import Foundation

    let embeddedMigrations: [(file: String, base64: String)] = [

    """
for path in arguments.dropFirst().sorted() {
    let url = URL(fileURLWithPath: path)
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("MigrationEmbedder: cannot read \(path)\n".utf8))
        exit(1)
    }
    source += "    (file: \"\(url.lastPathComponent)\", base64: \"\(data.base64EncodedString())\"),\n"
}
source += "]\n"

do {
    try source.write(toFile: output, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("MigrationEmbedder: cannot write \(output): \(error)\n".utf8))
    exit(1)
}
