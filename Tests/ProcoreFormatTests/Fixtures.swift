import SOVCore

/// Files under Tests/Fixtures/procore, found from this source file so tests run from any folder.
enum Fixture {
    static let folder: String = {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fixtures/procore"
    }()

    static func path(_ name: String) -> String { folder + "/" + name }

    static func bytes(_ name: String) throws -> [UInt8] {
        try InputFile(path: path(name)).readAll()
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }

    /// The canonical documents of a JSON Lines fixture.
    static func documents(_ name: String) throws -> [CanonicalDocument] {
        try text(name).split(separator: "\n").map { line in
            try CanonicalDocument(json: try JSONParser.parse(String(line)))
        }
    }
}

extension Money {
    /// Test shorthand: "12.34" in US dollars.
    static func usd(_ text: String) -> Money { try! Money.parse(text) }
}
