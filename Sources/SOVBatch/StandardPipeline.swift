import SOVCore

/// Said by `BatchPipeline.standard` until the real stages are plugged into the seam.
public struct PipelineNotWired: Error, Sendable, CustomStringConvertible {
    public init() {}
    public var description: String { "pipeline not wired yet" }
}

extension BatchPipeline {
    /// The pipeline `sov-run` and `sov-watch` use: the same library functions as `sov-parse`,
    /// `sov-validate`, `sov-markup` and `sov-emit`, configured from `options` (encoding, profile,
    /// project map, markups).
    ///
    /// INTEGRATION POINT: until SpectrumFormat, ProcoreFormat, SOVRules and SOVMarkup are merged,
    /// this throws `PipelineNotWired` and the commands exit 70 rather than produce anything
    /// fake. Wire it as:
    /// - `parse`: Spectrum XML/CSV readers and the Procore JSON reader over all paths together
    ///   (so jobs.csv + sov.csv join), one `InputFailure` per unusable input;
    /// - `validate`: SOVRules over the whole batch, with `history` for PC001/CO004 across runs;
    /// - `markup`: SOVMarkup (markup file from `options.markups`);
    /// - `export`: Procore import JSON for `.procore`, Spectrum import XML for `.spectrum`,
    ///   `fileName` from `request.target.fileName(for:)`.
    public static func standard(_ options: BatchOptions) throws -> BatchPipeline {
        throw PipelineNotWired()
    }
}
