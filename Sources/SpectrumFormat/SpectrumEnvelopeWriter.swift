/// The XML `sov-emit --to spectrum` writes: a SOAP 1.1 envelope in Spectrum Data Exchange style.
///
/// ```xml
/// <?xml version="1.0" encoding="UTF-8"?>
/// <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
///                xmlns="http://www.northgate-is.com/proiv/webservices/types">
///   <soap:Body>
///     <ARChangeRequest>
///       <Authorization_ID>…</Authorization_ID>
///       <GUID>…</GUID>
///       <Company_Code>1</Company_Code>
///       …
///       <CR_Revenue>3641.05</CR_Revenue>
///     </ARChangeRequest>
///     <ARChangeRequest>…</ARChangeRequest>
///   </soap:Body>
/// </soap:Envelope>
/// ```
///
/// Decided here: Data Exchange services take one record per call, the element named after the
/// method (`ARChangeRequest`, `ARChangeOrder`) with one child per field, named exactly as the
/// Data Exchange layout spells it (put services take plain field names; only get services prefix
/// parameters with `p`). The types namespace is the default namespace, so the record and field
/// elements carry no prefix. A batch is one envelope whose Body holds every record in order; a
/// sender posting to the live service sends each record as its own call, and since all records of
/// one change order share a GUID, Spectrum groups them as Trimble recommends. The same shape is
/// what our XML record reader takes back (docs/FORMATS.md, "Record shapes": a record is an element whose children are
/// all simple text elements), so what we write can be read back and checked.
///
/// Output is UTF-8, two-space indented, one field per line, `\n` line ends; every value is
/// escaped by `XMLEscaping`. Blank values are written as empty elements (`<Fee_Percent/>`).
public enum SpectrumEnvelopeWriter {
    public static let typesNamespace = "http://www.northgate-is.com/proiv/webservices/types"
    public static let soapNamespace = "http://schemas.xmlsoap.org/soap/envelope/"

    /// Everything before the first record.
    public static let opening = """
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="\(soapNamespace)" xmlns="\(typesNamespace)">
          <soap:Body>

        """

    /// Everything after the last record.
    public static let closing = """
          </soap:Body>
        </soap:Envelope>

        """

    /// Appends one record, indented for the Body.
    public static func append(_ record: SpectrumExportRecord, into output: inout String) {
        output += "    <\(record.element)>\n"
        for field in record.fields {
            if field.value.isEmpty {
                output += "      <\(field.name)/>\n"
            } else {
                output += "      <\(field.name)>"
                XMLEscaping.append(field.value, into: &output)
                output += "</\(field.name)>\n"
            }
        }
        output += "    </\(record.element)>\n"
    }

    /// A whole envelope holding `records`.
    public static func document(_ records: [SpectrumExportRecord]) -> String {
        var output = opening
        for record in records { append(record, into: &output) }
        output += closing
        return output
    }
}
