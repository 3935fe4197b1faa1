import ProcoreFormat
import SOVCore
import SpectrumFormat

/// The front end every command that reads exports goes through (`sov-parse`, `sov-run`,
/// `sov-watch`): the settings files that decide how inputs are read (a site profile, Procore
/// markups) are loaded here, once, and an unusable one is an `InputFailure` before any input is
/// touched; inputs are then opened, sniffed and read through `DocumentInputReader`, the one door
/// (reader -> layout -> model), with an input unusable as a whole contributing nothing.
public enum FrontEnd {
    /// The reader for these options.
    public static func reader(_ options: BatchOptions) throws(InputFailure) -> DocumentInputReader {
        var readOptions = SpectrumReadOptions(encoding: options.encoding, delimiter: options.delimiter)
        if let path = options.profile {
            do {
                readOptions.profile = try SpectrumProfile.load(path)
            } catch {
                throw InputFailure(path: path, status: error.code == .IO001 ? .noInput : .usage, message: "the profile cannot be used", diagnostics: [error])
            }
        }
        var procoreMarkups: JSONValue?
        if let path = options.procoreMarkups {
            do {
                procoreMarkups = try ProcoreReader.loadMarkups(path)
            } catch {
                throw InputFailure(path: path, status: error.code == .IO001 ? .noInput : .dataError, message: "the Procore markups file cannot be used", diagnostics: [error])
            }
        }
        return DocumentInputReader(spectrum: readOptions, procoreMarkups: procoreMarkups)
    }
}
