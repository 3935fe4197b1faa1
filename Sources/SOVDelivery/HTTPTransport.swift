import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Header fields with case-insensitive names (HTTP/1.1 and HTTP/2 disagree on case, servers vary).
/// Keeps the order fields were added in, so what is sent is reproducible.
public struct HTTPHeaders: Sendable, Hashable, Sequence {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}

    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { self[name] = value }
    }

    /// First value of `name`, any case; setting replaces every field of that name.
    public subscript(name: String) -> String? {
        get {
            let lowered = name.lowercased()
            return fields.first { $0.name.lowercased() == lowered }?.value
        }
        set {
            let lowered = name.lowercased()
            fields.removeAll { $0.name.lowercased() == lowered }
            if let newValue { fields.append((name, newValue)) }
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name.lowercased() == $1.name.lowercased() && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for field in fields {
            hasher.combine(field.name.lowercased())
            hasher.combine(field.value)
        }
    }
}

public struct HTTPRequest: Sendable, Hashable {
    public var method: String
    public var url: URL
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Seconds for the whole exchange (connect, send, wait, receive).
    public var timeout: Double

    public init(method: String, url: URL, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], timeout: Double = 60) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable, Hashable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}

public enum TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// No answer within the request's timeout. The server may have acted on the request.
    case timeout(String)
    /// Could not connect, or the connection broke. After the request was sent, the server may
    /// have acted on it (a lost response), so only repeat calls that are safe to repeat.
    case connectionFailed(String)
    /// The request cannot be sent at all (bad URL, unsupported scheme, redirect to another host):
    /// repeating it cannot help.
    case invalidRequest(String)

    public var isRetryable: Bool {
        switch self {
        case .timeout, .connectionFailed: true
        case .invalidRequest: false
        }
    }

    public var description: String {
        switch self {
        case .timeout(let text): "timed out: \(text)"
        case .connectionFailed(let text): "connection failed: \(text)"
        case .invalidRequest(let text): "invalid request: \(text)"
        }
    }
}

/// One HTTP exchange, blocking the caller. Synchronous on purpose: delivery is a sequence of
/// dependent calls, and the batch runner already runs units on its own threads.
public protocol HTTPTransport: Sendable {
    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse
}

/// `HTTPTransport` over URLSession (libcurl on Linux). No cookies, no caches, no credentials
/// storage: every call carries what it needs, and nothing leaks between runs.
public final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
    // @unchecked: URLSession is thread-safe but not marked Sendable in corelibs-foundation.
    private let session: URLSession

    public init() {
        session = Self.makeSession()
    }

    private static func makeSession() -> URLSession {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        configuration.urlCredentialStorage = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalAndRemoteCacheData
        configuration.httpMaximumConnectionsPerHost = 4
        return URLSession(configuration: configuration, delegate: SameHostRedirects(), delegateQueue: nil)
    }

    deinit { session.invalidateAndCancel() }

    public func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        guard let scheme = request.url.scheme?.lowercased(), scheme == "http" || scheme == "https", request.url.host != nil else {
            throw .invalidRequest("not an http(s) URL: \(request.url.absoluteString)")
        }
        var urlRequest = URLRequest(url: request.url, cachePolicy: .reloadIgnoringLocalAndRemoteCacheData, timeoutInterval: request.timeout)
        urlRequest.httpMethod = request.method
        urlRequest.httpShouldHandleCookies = false
        for field in request.headers { urlRequest.setValue(field.value, forHTTPHeaderField: field.name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }

        // libcurl silently re-sends a request whose reused connection closed before any response
        // byte. For a create that would be a duplicate, so calls not safe to repeat go over a
        // fresh connection (a session of their own), where libcurl does not re-send.
        let safe = RetryPolicy.isSafeToRepeat(method: request.method, path: request.url.path)
        let session = safe ? self.session : Self.makeSession()
        defer { if !safe { session.finishTasksAndInvalidate() } }
        let outcome = Outcome()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: urlRequest) { data, response, error in
            outcome.set(data: data, response: response, error: error)
            done.signal()
        }
        task.resume()
        // URLSession's own timeout is per idle interval; this bounds the whole exchange too.
        if done.wait(timeout: .now() + request.timeout + 5) == .timedOut {
            task.cancel()
            _ = done.wait(timeout: .now() + 5)
            throw .timeout("\(request.method) \(request.url.path) after \(request.timeout) s")
        }
        let (data, response, error) = outcome.get()
        if let error {
            throw Self.classify(error, request)
        }
        guard let http = response as? HTTPURLResponse else {
            throw .connectionFailed("\(request.method) \(request.url.path): no HTTP response")
        }
        var headers = HTTPHeaders()
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name] = value }
        }
        return HTTPResponse(status: http.statusCode, headers: headers, body: data.map { [UInt8]($0) } ?? [])
    }

    private static func classify(_ error: any Error, _ request: HTTPRequest) -> TransportError {
        let what = "\(request.method) \(request.url.path)"
        guard let urlError = error as? URLError else { return .connectionFailed("\(what): \(error)") }
        switch urlError.code {
        case .timedOut: return .timeout("\(what) after \(request.timeout) s")
        case .badURL, .unsupportedURL, .httpTooManyRedirects, .redirectToNonExistentLocation:
            return .invalidRequest("\(what): \(urlError.localizedDescription)")
        default: return .connectionFailed("\(what): \(urlError.localizedDescription) (\(urlError.code.rawValue))")
        }
    }
}

/// The completion handler runs on URLSession's queue; the caller reads after the semaphore.
private final class Outcome: @unchecked Sendable {
    private let lock = NSLock()
    private var data: Data?
    private var response: URLResponse?
    private var error: (any Error)?

    func set(data: Data?, response: URLResponse?, error: (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        (self.data, self.response, self.error) = (data, response, error)
    }

    func get() -> (Data?, URLResponse?, (any Error)?) {
        lock.lock()
        defer { lock.unlock() }
        return (data, response, error)
    }
}

/// Follows a redirect only within the same scheme, host and port: the Authorization header must
/// never reach another host. A refused redirect comes back as the 3xx response itself.
private final class SameHostRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        let from = task.originalRequest?.url
        let to = request.url
        let same = from?.scheme == to?.scheme && from?.host == to?.host && from?.port == to?.port
        if same {
            completionHandler(request)
        } else {
            completionHandler(nil)
        }
    }
}
