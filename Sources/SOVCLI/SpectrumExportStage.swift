import SOVFrontEnd
import SOVCore
import SpectrumFormat

/// The whole `sov-emit --to spectrum` path over canonical JSON Lines, as a library function so
/// the command and the batch runner share it: each change order through the writer, rejects to
/// the report, and either one envelope for the batch on `output` or, with `outDir`, one envelope
/// file per change order, written atomically (`<origin id>.xml`, the document's stable identity).
///
/// Prime contracts are rejected (they go to Procore). Nothing is written on `output` when no
/// change order was accepted, so an empty import never reaches Spectrum. A closed `output`
/// (`| head`) ends the stage with status 0, as in every stage.
public enum SpectrumExportStage {
    public static func run(
        inputPaths: [String], writer: SpectrumChangeRequestWriter, outDir: String?,
        report: StageReport, output: OutputSink,
        generator: inout some RandomNumberGenerator
    ) -> ExitStatus {
        if let outDir {
            do {
                try AtomicFile.makeFolder(outDir)
            } catch {
                try? report.fail(error.status, "cannot create the output folder: \(error.description)")
                return report.finish()
            }
        }
        var envelopeOpen = false
        var saidWarnings: Set<String> = []
        return report.runCanonical(
            inputPaths: inputPaths, output: output,
            body: { document in
                guard case .changeOrder(let order) = document else {
                    let message = "\(document.displayName) cannot go to Spectrum: prime contracts go to Procore (sov-emit --to procore); --to spectrum takes change orders"
                    try report.reject(Reject(document: document, diagnostics: [.error(.FMT009, message, at: document.source.with(field: "kind"))]))
                    return
                }
                switch writer.export(order, using: &generator) {
                case .rejected(let diagnostics):
                    try report.reject(Reject(document: document, diagnostics: diagnostics))
                case .exported(let export):
                    // A warning the same for every change order (no Authorization_ID) is said once.
                    for warning in export.warnings where saidWarnings.insert(warning.humanLine).inserted { report.warn(warning) }
                    if let outDir {
                        let file = outDir + "/" + AtomicFile.safeFileName(document.originId) + ".xml"
                        do throws(IOFailure) {
                            try AtomicFile.write(Array(SpectrumEnvelopeWriter.document(export.records).utf8), to: file)
                        } catch {
                            try report.fail(error.status, error.description)
                            return
                        }
                    } else {
                        var text = ""
                        if !envelopeOpen {
                            text += SpectrumEnvelopeWriter.opening
                            envelopeOpen = true
                        }
                        for record in export.records { SpectrumEnvelopeWriter.append(record, into: &text) }
                        try output.write(text)
                    }
                    report.countOut()
                }
            },
            finish: {
                if envelopeOpen { try output.write(SpectrumEnvelopeWriter.closing) }
            })
    }
}
