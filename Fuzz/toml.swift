import SOVCore
import SpectrumFormat

/// The TOML parser (configuration, profiles, markup defaults) on arbitrary text: what parses is
/// plain JSON data that survives the JSON writer and parser; a profile built from it loads or
/// is refused with a diagnostic.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTOML(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for name in ["fuzz.toml", "fuzz.json"] {
        let value: JSONValue
        do {
            value = try ConfigFile.parse(bytes, name: name)
        } catch {
            CanonicalCheck.diagnostic(error)
            continue
        }
        let text = value.text
        guard (try? JSONParser.parse(text)) == value else { fatalError("TOML value does not survive JSON:\n\(text)") }
        do {
            _ = try SpectrumProfile(json: value, file: name)
        } catch {
            CanonicalCheck.diagnostic(error)
        }
    }
    return 0
}
