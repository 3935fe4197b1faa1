import Foundation

/// The Data Exchange Authorization_ID. A secret: it prints as `<redacted>` everywhere (string
/// interpolation, `dump`, debug descriptions), so it cannot leak into logs, reports or errors.
public struct SpectrumAuthorizationID: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Only this module reads the value: to put it in the envelope and to redact it from texts.
    let value: String

    /// Nil when empty or longer than the documented 20 characters (DEX-TRANSPORT.md §1).
    public init?(_ value: String) {
        let trimmed = value.spectrumTrimmed
        guard !trimmed.isEmpty, trimmed.count <= 20 else { return nil }
        self.value = trimmed
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "SpectrumAuthorizationID(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// `text` with every occurrence of the secret replaced, for anything a server echoed back.
    public func redact(_ text: String) -> String {
        text.replacingOccurrences(of: value, with: "<redacted>")
    }
}

/// `[spectrum]` settings for Data Exchange delivery (docs/ARCHITECTURE.md, "Delivery").
public struct SpectrumDEXSettings: Sendable, CustomStringConvertible {
    /// Base URL of the installation's Data Exchange, e.g. `https://spectrum.example.com:8482`.
    public var dexURL: URL
    /// From `SPECTRUM_AUTHORIZATION_ID` or `authorization_id_file` (the caller reads those).
    public var authorizationID: SpectrumAuthorizationID
    /// Seconds for one SOAP exchange.
    public var requestTimeout: Double

    public init(dexURL: URL, authorizationID: SpectrumAuthorizationID, requestTimeout: Double = 60) {
        self.dexURL = dexURL
        self.authorizationID = authorizationID
        self.requestTimeout = requestTimeout
    }

    /// Reads `dex_url` as configured; nil unless it is an absolute http(s) URL with a host.
    public static func dexURL(_ text: String) -> URL? {
        guard let url = URL(string: text.spectrumTrimmed), let scheme = url.scheme?.lowercased(),
              scheme == "https" || scheme == "http", url.host?.isEmpty == false, url.query == nil
        else { return nil }
        return url
    }

    public var description: String {
        "SpectrumDEXSettings(dex_url: \(dexURL.absoluteString), authorization_id: <redacted>, timeout: \(requestTimeout) s)"
    }
}

/// Why one call got no classifiable Data Exchange answer.
public enum SpectrumDEXCallError: Error, Sendable, Hashable, CustomStringConvertible {
    case transport(TransportError)
    /// A status with a body that is not a SOAP answer (proxy pages, plain 500s, 404 on a wrong URL).
    case httpStatus(Int, excerpt: String, headers: HTTPHeaders)
    /// A SOAP-looking body that could not be read.
    case unreadableAnswer(status: Int, message: String)

    /// Whether sending the same record again may help. Always safe for Data Exchange Puts with a
    /// fixed number: Spectrum updates the keyed record instead of adding one (§3, §4).
    public var isRetryable: Bool {
        switch self {
        case .transport(let error): error.isRetryable
        case .httpStatus(let status, _, _): RetryPolicy.isRetryableStatus(status)
        case .unreadableAnswer: true  // a truncated answer under load (§3 [3P]) is worth another try
        }
    }

    /// 401/403 before any SOAP processing: the installation refused who we are.
    public var isAuthorization: Bool {
        if case .httpStatus(let status, _, _) = self { return status == 401 || status == 403 }
        return false
    }

    public var description: String {
        switch self {
        case .transport(let error): error.description
        case .httpStatus(let status, let excerpt, _): "HTTP \(status)\(excerpt.isEmpty ? "" : ": \(excerpt)")"
        case .unreadableAnswer(let status, let message): "unreadable answer (HTTP \(status)): \(message)"
        }
    }
}

/// One Data Exchange SOAP call per record over the shared `HTTPTransport`. No retries here: the
/// deliverer decides what to repeat.
public struct SpectrumDEXClient: Sendable {
    public let settings: SpectrumDEXSettings
    let transport: any HTTPTransport

    public init(settings: SpectrumDEXSettings, transport: any HTTPTransport) {
        self.settings = settings
        self.transport = transport
    }

    /// Sends one record and classifies the answer. Texts in errors are redacted.
    public func send(method: SpectrumDEXMethod, guid: String, record: SpectrumDEXRecord) throws(SpectrumDEXCallError) -> SpectrumDEXAnswer {
        let endpoint = SpectrumDEXResponseShape.endpoint(base: settings.dexURL, method: method)
        var headers = SpectrumDEXResponseShape.headers(endpoint: endpoint)
        // A fresh connection per call: on a reused keep-alive connection that dies without an
        // answer, libcurl (URLSession on Linux) silently re-sends the POST, without its body, and
        // the call then hangs until the timeout. With `close` a lost answer is reported at once
        // and every resend is ours, counted and bounded by the retry policy.
        headers["Connection"] = "close"
        let request = HTTPRequest(
            method: "POST", url: endpoint, headers: headers,
            body: SpectrumDEXResponseShape.envelope(method: method, authorizationID: settings.authorizationID.value, guid: guid, record: record),
            timeout: settings.requestTimeout
        )
        let response: HTTPResponse
        do {
            response = try transport.send(request)
        } catch {
            throw .transport(error)
        }
        let answer: SpectrumDEXAnswer
        do {
            answer = try SpectrumDEXResponseShape.classify(response.body, method: method)
        } catch {
            if (200..<300).contains(response.status) {
                throw .unreadableAnswer(status: response.status, message: settings.authorizationID.redact(error.description))
            }
            throw .httpStatus(response.status, excerpt: excerpt(response), headers: response.headers)
        }
        return redacted(answer)
    }

    private func excerpt(_ response: HTTPResponse) -> String {
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
        return settings.authorizationID.redact(text.split(whereSeparator: \.isNewline).joined(separator: " ").spectrumTrimmed)
    }

    /// A server may echo the Authorization_ID in a description; it must not reach our outcome.
    private func redacted(_ answer: SpectrumDEXAnswer) -> SpectrumDEXAnswer {
        let id = settings.authorizationID
        func clean(_ rows: [SpectrumDEXResponseRow]) -> [SpectrumDEXResponseRow] {
            rows.map { SpectrumDEXResponseRow(code: $0.code, description: id.redact($0.description), column: $0.column.map(id.redact)) }
        }
        switch answer {
        case .accepted(let rows): return .accepted(clean(rows))
        case .guidTimedOut(let row): return .guidTimedOut(clean([row])[0])
        case .notAuthorized(let rows): return .notAuthorized(clean(rows))
        case .rejected(let rows): return .rejected(clean(rows))
        case .fault(let code, let text, let server): return .fault(code: code, text: id.redact(text), server: server)
        }
    }
}
