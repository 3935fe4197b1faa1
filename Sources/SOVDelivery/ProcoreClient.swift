import Foundation
import SOVCore

/// Where and as whom to call Procore. The secret never appears in `description`, `debugDescription`
/// or `dump` output: settings end up in logs and run reports.
public struct ProcoreSettings: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var apiURL: URL
    public var loginURL: URL
    public var companyId: String
    public var clientId: String
    public var clientSecret: String
    /// Seconds allowed for one HTTP exchange.
    public var requestTimeout: Double
    /// Renew the token this many seconds before Procore's stated expiry (DELIVERY.md §2.1).
    public var tokenRenewalMargin: Double

    public static let defaultAPIURL = URL(string: "https://api.procore.com")!
    public static let defaultLoginURL = URL(string: "https://login.procore.com")!

    public init(
        apiURL: URL = ProcoreSettings.defaultAPIURL, loginURL: URL = ProcoreSettings.defaultLoginURL,
        companyId: String, clientId: String, clientSecret: String, requestTimeout: Double = 60, tokenRenewalMargin: Double = 300
    ) {
        self.apiURL = apiURL
        self.loginURL = loginURL
        self.companyId = companyId
        self.clientId = clientId
        self.clientSecret = clientSecret
        self.requestTimeout = requestTimeout
        self.tokenRenewalMargin = tokenRenewalMargin
    }

    public var description: String {
        "ProcoreSettings(api_url: \(apiURL.absoluteString), login_url: \(loginURL.absoluteString), company_id: \(companyId), client_id: \(clientId), client_secret: <redacted>)"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        Mirror(self, children: [
            "apiURL": apiURL, "loginURL": loginURL, "companyId": companyId, "clientId": clientId, "clientSecret": "<redacted>",
        ])
    }
}

/// How a Procore call ended when it did not succeed.
public enum ProcoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A 4xx that retrying cannot fix; Procore's body text verbatim.
    case refused(message: String, status: Int)
    /// Gave up after retries or at the run deadline.
    case failed(String)
    /// Credentials or permissions: the message names the setting to check.
    case authentication(String)
    /// A call that is not safe to repeat (a create) may or may not have been applied: the caller
    /// must look the object up before trying again.
    case uncertain(String)

    public var description: String {
        switch self {
        case .refused(let message, let status): "Procore refused (HTTP \(status)): \(message)"
        case .failed(let text): text
        case .authentication(let text): text
        case .uncertain(let text): "outcome unknown: \(text)"
        }
    }
}

/// OAuth client credentials (DMSA): one token, renewed before `created_at + expires_in − margin`
/// and once when Procore answers 401. Renewals are serialized by a lock so concurrent callers
/// never fetch two tokens for one expiry.
public final class ProcoreAuth: @unchecked Sendable {
    // @unchecked: the mutable token state is only touched under `lock`.
    private let settings: ProcoreSettings
    private let transport: any HTTPTransport
    private let policy: RetryPolicy
    private let lock = NSLock()
    private var current: (token: String, renewAt: Double)?
    private var fetches = 0
    private var exchanges = 0

    public init(settings: ProcoreSettings, transport: any HTTPTransport, policy: RetryPolicy) {
        self.settings = settings
        self.transport = transport
        self.policy = policy
    }

    /// How many tokens were fetched (for tests and run reports).
    public var tokenFetches: Int { lock.withLock { fetches } }
    /// HTTP exchanges with the token endpoint, retries included.
    public var tokenExchanges: Int { lock.withLock { exchanges } }

    /// A token valid now: the cached one, or a new one when it is (nearly) expired.
    public func token() throws(ProcoreError) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let current, policy.clock.unixNow() < current.renewAt { return current.token }
        return try fetchLocked()
    }

    /// Called after a 401 with `rejected`: fetches a new token unless another caller already
    /// replaced that one, so a burst of 401s costs one renewal.
    public func renew(rejected: String) throws(ProcoreError) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let current, current.token != rejected, policy.clock.unixNow() < current.renewAt { return current.token }
        return try fetchLocked()
    }

    private func fetchLocked() throws(ProcoreError) -> String {
        current = nil
        let url = settings.loginURL.appendingPathComponent("oauth/token")
        // Form encoding: the documented curl uses form fields; RFC 6749's default (DELIVERY.md §1.2).
        let form = [("grant_type", "client_credentials"), ("client_id", settings.clientId), ("client_secret", settings.clientSecret)]
            .map { "\($0.0)=\(Self.formEscape($0.1))" }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Accept"] = "application/json"
        let request = HTTPRequest(method: "POST", url: url, headers: headers, body: Array(form.utf8), timeout: settings.requestTimeout)
        let counting = CountingTransport(transport) { [self] in exchanges += 1 }
        let response: HTTPResponse
        switch policy.send(request, over: counting) {
        case .success(let answer): response = answer
        case .failure(let exhausted): throw .failed("Procore login (\(settings.loginURL.absoluteString)): \(exhausted)")
        }
        guard (200..<300).contains(response.status) else {
            if response.status == 400 || response.status == 401 || response.status == 403 {
                throw .authentication("Procore login refused the client credentials (HTTP \(response.status)): check client_id and client_secret for \(settings.loginURL.absoluteString): \(response.bodyText)")
            }
            throw .failed("Procore login answered HTTP \(response.status): \(response.bodyText)")
        }
        guard let json = try? JSONParser.parse(response.body), let token = ProcoreResponseShapes.token(json) else {
            throw .failed("Procore login answered without an access_token: \(response.bodyText.prefix(200))")
        }
        let now = policy.clock.unixNow()
        let expiresAt = (token.createdAt ?? now) + (token.expiresIn ?? 5400)
        // Never renew later than half the lifetime from now, however large the margin is set.
        let renewAt = max(expiresAt - settings.tokenRenewalMargin, now + (token.expiresIn ?? 5400) / 2)
        current = (token.accessToken, min(renewAt, expiresAt))
        fetches += 1
        return token.accessToken
    }

    private static func formEscape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

/// Counts exchanges for run statistics without the transports having to.
private struct CountingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let count: @Sendable () -> Void

    init(_ inner: any HTTPTransport, count: @escaping @Sendable () -> Void) {
        self.inner = inner
        self.count = count
    }

    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        count()
        return try inner.send(request)
    }
}

/// A Procore answer with its body parsed (nil when empty).
public struct ProcoreResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var json: JSONValue?
}

/// Calls Procore's REST API: adds the auth, company and content headers, obeys rate limits, and
/// retries what is safe to retry (RetryPolicy.isSafeToRepeat). Errors come back as ProcoreError.
public final class ProcoreClient: @unchecked Sendable {
    // @unchecked: the only mutable state (counters) is under `lock`.
    public let settings: ProcoreSettings
    public let auth: ProcoreAuth
    private let transport: any HTTPTransport
    private let policy: RetryPolicy
    private let lock = NSLock()
    private var exchanges = 0

    public init(settings: ProcoreSettings, transport: any HTTPTransport = URLSessionTransport(), policy: RetryPolicy = RetryPolicy()) {
        self.settings = settings
        self.transport = transport
        self.policy = policy
        auth = ProcoreAuth(settings: settings, transport: transport, policy: policy)
    }

    /// HTTP exchanges so far (API calls, retries and token calls included).
    public var callCount: Int { lock.withLock { exchanges } + auth.tokenExchanges }

    public var retryPolicy: RetryPolicy { policy }

    /// The URL of an API path (starting "/rest/…") with its query, in the given order.
    public func url(path: String, query: [(String, String)]) -> URL? {
        guard var components = URLComponents(url: settings.apiURL, resolvingAgainstBaseURL: false) else { return nil }
        let basePath = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        components.percentEncodedPath = basePath + path
        if !query.isEmpty {
            // Brackets stay literal (filters[contract_id]) as Procore's docs write them; '+' and
            // '&' and '=' inside values are escaped.
            var allowed = CharacterSet.urlQueryAllowed
            allowed.remove(charactersIn: "&=+")
            components.percentEncodedQuery = query.map {
                "\($0.0.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)"
            }.joined(separator: "&")
        }
        return components.url
    }

    /// One API call. 2xx returns; everything else becomes a ProcoreError after the retries that
    /// are safe for this method and path.
    public func send(method: String, path: String, query: [(String, String)] = [], body: JSONValue? = nil) throws(ProcoreError) -> ProcoreResponse {
        guard let url = url(path: path, query: query) else { throw .refused(message: "cannot build a URL for \(path)", status: 0) }
        return try send(method: method, url: url, body: body)
    }

    public func send(method: String, url: URL, body: JSONValue? = nil) throws(ProcoreError) -> ProcoreResponse {
        let safe = RetryPolicy.isSafeToRepeat(method: method, path: url.path)
        let what = "\(method) \(url.path)"
        var renewedAfter401 = false
        var bodyBytes: [UInt8] = []
        if let body { JSONWriter.write(body, into: &bodyBytes) }

        let outcome: Result<Result<ProcoreResponse, ProcoreError>, RetryExhausted> = policy.run { _ in
            let token: String
            do throws(ProcoreError) {
                token = try auth.token()
            } catch {
                return .finished(.failure(error))
            }
            var headers = HTTPHeaders()
            headers["Authorization"] = "Bearer \(token)"
            headers["Procore-Company-Id"] = settings.companyId
            headers["Accept"] = "application/json"
            if body != nil { headers["Content-Type"] = "application/json" }
            let request = HTTPRequest(method: method, url: url, headers: headers, body: bodyBytes, timeout: settings.requestTimeout)
            lock.withLock { exchanges += 1 }
            let response: HTTPResponse
            do throws(TransportError) {
                response = try transport.send(request)
            } catch {
                if !error.isRetryable { return .finished(.failure(.refused(message: error.description, status: 0))) }
                if !safe { return .finished(.failure(.uncertain(error.description))) }
                return .retry(reason: error.description, serverWait: nil)
            }
            // Remaining 0: this call counted, the next would be refused; wait out the window.
            if response.status != 429, let pause = policy.rateLimitPause(response.headers), !policy.sleep(pause) {
                return .finished(.failure(.failed("\(what): rate limit window exhausted and the run deadline is before its reset")))
            }
            switch response.status {
            case 200..<300:
                let json = response.body.isEmpty ? nil : try? JSONParser.parse(response.body)
                return .finished(.success(ProcoreResponse(status: response.status, headers: response.headers, json: json)))
            case 401:
                if renewedAfter401 {
                    return .finished(.failure(.authentication(
                        "Procore rejected a fresh access token for \(what) (HTTP 401): check client_id/client_secret and that the app is installed on company \(settings.companyId): \(response.bodyText)")))
                }
                renewedAfter401 = true
                do throws(ProcoreError) {
                    _ = try auth.renew(rejected: token)
                } catch {
                    return .finished(.failure(error))
                }
                return .retry(reason: "\(what): HTTP 401, token renewed", serverWait: 0)
            case 403:
                return .finished(.failure(.authentication(
                    "Procore refused access for \(what) (HTTP 403): check company_id (\(settings.companyId)) and that the project is among the app's permitted projects: \(response.bodyText)")))
            case 429:
                // Not applied by Procore, so safe to repeat whatever the method.
                return .retry(reason: "\(what): HTTP 429", serverWait: policy.serverWait(response.headers) ?? policy.backoff(retry: 1))
            case 408, 500...599:
                if !safe { return .finished(.failure(.uncertain("\(what): HTTP \(response.status): \(response.bodyText)"))) }
                return .retry(reason: "\(what): HTTP \(response.status)", serverWait: response.headers["Retry-After"] == nil ? nil : policy.serverWait(response.headers))
            default:
                return .finished(.failure(.refused(message: response.bodyText, status: response.status)))
            }
        }
        switch outcome {
        case .success(.success(let response)): return response
        case .success(.failure(let error)): throw error
        case .failure(let exhausted): throw .failed("\(what): \(exhausted)")
        }
    }

    /// Every item of a paginated v1.0 list, following `Link: rel="next"`; bounded at `maxPages`.
    public func getAll(path: String, query: [(String, String)], perPage: Int = 100, maxPages: Int = 200) throws(ProcoreError) -> [JSONValue] {
        guard var next = url(path: path, query: query + [("page", "1"), ("per_page", String(perPage))]) else {
            throw .refused(message: "cannot build a URL for \(path)", status: 0)
        }
        var items: [JSONValue] = []
        for _ in 0..<maxPages {
            let response = try send(method: "GET", url: next)
            guard let json = response.json, let page = ProcoreResponseShapes.listItems(json) else {
                throw .failed("GET \(path): expected a JSON array")
            }
            items += page
            guard let link = ProcoreResponseShapes.nextPage(linkHeader: response.headers["Link"]), !page.isEmpty else { return items }
            // Follow only links to the same API host: the token must not go elsewhere.
            guard link.host == settings.apiURL.host, link.port == settings.apiURL.port else {
                throw .failed("GET \(path): next page link points to another host: \(link.absoluteString)")
            }
            next = link
        }
        throw .failed("GET \(path): more than \(maxPages) pages")
    }
}
