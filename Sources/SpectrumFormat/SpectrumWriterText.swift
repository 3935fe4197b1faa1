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
