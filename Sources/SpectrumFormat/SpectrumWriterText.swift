/// Text rules of the Spectrum writers. Lengths are counted in Unicode scalars, the stricter of
/// the usual counts, since Spectrum's field limits are storage limits.
extension String {
    /// Without surrounding spaces and tabs (Spectrum pads codes; nothing else is altered).
    var spectrumWriterTrimmed: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(scalars[first...last])
    }

    var spectrumWriterLength: Int { unicodeScalars.count }

    /// The longest prefix of whole characters within `limit` scalars, so a cut never splits an
    /// accent from its letter.
    func spectrumWriterCut(to limit: Int) -> String {
        var result = ""
        var count = 0
        for character in self {
            let size = character.unicodeScalars.count
            if count + size > limit { break }
            result.append(character)
            count += size
        }
        return result
    }

    /// A Procore cost code as Spectrum keys its phase: the separators Procore shows
    /// (`01-100`, `01.100`, `01 100`) removed, letters and digits kept as they are.
    var spectrumWriterPhaseCode: String {
        var result = String.UnicodeScalarView()
        for scalar in unicodeScalars where scalar.properties.isAlphabetic || scalar.properties.numericType != nil {
            result.append(scalar)
        }
        return String(result)
    }
}

extension SpectrumChangeRequestWriter {
    /// `text` within `limit` scalars for the Spectrum field `name`, as `config.longText` says:
    /// cut at a character boundary with an FMT005 warning, or a CO005 error that rejects the
    /// change order (then `text` is returned whole; nothing is written).
    func fitted(_ text: String, to limit: Int, _ name: String, field: String, _ problems: inout SpectrumWriterProblems) -> String {
        let length = text.spectrumWriterLength
        guard length > limit else { return text }
        switch config.longText {
        case .cut:
            let cut = text.spectrumWriterCut(to: limit)
            problems.warning(.FMT005, "\(name) holds \(limit) characters: '\(text)' is cut to '\(cut)' (spectrum.long_text = \"reject\" rejects it instead)", field: field, value: text)
            return cut
        case .reject:
            problems.error(.CO005, "\(name) holds \(limit) characters; '\(text)' has \(length) and spectrum.long_text is \"reject\"", field: field, value: text)
            return text
        }
    }
}
