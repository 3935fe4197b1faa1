import Foundation
import SOVCore

/// The one scratch folder of the tests: a fresh folder under the temporary directory, removed
/// (with everything in it) when the object goes. Files are named relative to it.
///
/// Keep the object alive while its paths are used: `let folder = TemporaryFolder()` at the top
/// of the test, not a temporary in an expression.
///
/// Creating the folder or writing a file traps with the path and the reason: neither is what a
/// test checks, and a test that cannot write its inputs has nothing to check.
public final class TemporaryFolder: @unchecked Sendable {
    // @unchecked: `path` is immutable; the file system is the only state.
    public let path: String

    /// - Parameter prefix: the start of the folder's name, to tell whose folder a leftover is.
    public init(_ prefix: String = "sov-test") {
        var template = Array((NSTemporaryDirectory() + prefix + "-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            preconditionFailure("cannot create a temporary folder under \(NSTemporaryDirectory()): \(String(cString: strerror(errno)))")
        }
        path = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` (which may name subfolders: "drop/inbox/a.csv") in this folder.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name`, creating its subfolders; returns the path.
    @discardableResult
    public func write<Bytes: Sequence<UInt8>>(_ name: String, _ bytes: Bytes) -> String {
        let target = file(name)
        do {
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: target))
        } catch {
            preconditionFailure("cannot write \(target): \(error)")
        }
        return target
    }

    /// Writes `text` as UTF-8 to `name`; returns the path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String { write(name, Data(text.utf8)) }

    public func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    /// The bytes of `name`, nil if it cannot be read.
    public func bytes(_ name: String) -> Data? { FileManager.default.contents(atPath: file(name)) }

    /// The text of `name` (UTF-8, invalid bytes replaced), nil if it cannot be read.
    public func text(_ name: String) -> String? { bytes(name).map { String(decoding: $0, as: UTF8.self) } }

    /// A JSON Lines file (e.g. one an executable wrote for --rejects); an absent file has none.
    public func jsonLines(_ name: String) throws -> [JSONValue] {
        try JSONParser.parseSequence(Array(bytes(name) ?? Data())).map(\.value)
    }

    /// The names in `folder` (hidden ones too), sorted; none if it does not exist.
    public func names(_ folder: String = ".") -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: file(folder))) ?? []).sorted()
    }

    public func isFolder(_ name: String) -> Bool {
        var folder: ObjCBool = false
        return FileManager.default.fileExists(atPath: file(name), isDirectory: &folder) && folder.boolValue
    }

    /// The unit files directly in `folder` (not its subfolders or hidden files), by slug.
    public func units(_ folder: String) -> [String] {
        names(folder).filter { !$0.hasPrefix(".") && !isFolder(folder + "/" + $0) }.compactMap(UnitFiles.slug).sorted()
    }

    /// The path (relative to this folder) of the unit with this slug in `folder`.
    public func unit(_ folder: String, _ slug: String) -> String {
        let name = names(folder).first { UnitFiles.slug($0) == slug } ?? slug
        return folder + "/" + name
    }
}
