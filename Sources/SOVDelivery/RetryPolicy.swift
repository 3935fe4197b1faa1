import Foundation

/// Time as the retry logic sees it, injectable so tests run instantly and deterministically.
public struct RetryClock: Sendable {
    /// Seconds on a monotonic clock (deadlines; never jumps with the wall clock).
    public var monotonicNow: @Sendable () -> Double
    /// Unix seconds (servers state rate-limit resets in wall-clock time).
    public var unixNow: @Sendable () -> Double
    /// Blocks the calling thread for the given seconds.
    public var sleep: @Sendable (Double) -> Void

    public init(monotonicNow: @escaping @Sendable () -> Double, unixNow: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) -> Void) {
        self.monotonicNow = monotonicNow
        self.unixNow = unixNow
        self.sleep = sleep
    }

    public static let system = RetryClock(
        monotonicNow: { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 },
        unixNow: { Date().timeIntervalSince1970 },
        sleep: { seconds in if seconds > 0 { Thread.sleep(forTimeInterval: seconds) } }
    )
}

/// Why a retried operation stopped without a result.
public struct RetryExhausted: Error, Sendable, Hashable, CustomStringConvertible {
    public var attempts: Int
    /// The reason given by the last attempt that asked to be retried.
    public var lastReason: String
    /// True when the run deadline (not the attempt count) ended it.
    public var deadlineReached: Bool

    public init(attempts: Int, lastReason: String, deadlineReached: Bool) {
        self.attempts = attempts
        self.lastReason = lastReason
        self.deadlineReached = deadlineReached
    }

    public var description: String {
        deadlineReached
            ? "gave up at the run deadline after \(attempts) attempt(s); last: \(lastReason)"
            : "gave up after \(attempts) attempt(s); last: \(lastReason)"
    }
}

/// Bounded retries: exponential backoff with full jitter, server-stated waits honoured, and an
/// absolute run deadline that no wait may cross. One instance per run; a value type, so copies
/// are independent.
public struct RetryPolicy: Sendable {
    /// What one attempt reports: a final value (success or a failure retrying cannot fix), or a
    /// request to try again, optionally after a wait the server asked for.
    public enum Attempt<Value> {
        case finished(Value)
        case retry(reason: String, serverWait: Double?)
    }

    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double
    /// Absolute time on `clock.monotonicNow` after which no new attempt starts; nil = none.
    public var deadline: Double?
    /// A server asking for a longer wait than this is treated as unavailable for this run.
    public var maxServerWait: Double
    public var clock: RetryClock
    /// A uniform random number in 0...upper; injectable for tests.
    public var random: @Sendable (Double) -> Double

    public init(
        maxAttempts: Int = 6, baseDelay: Double = 0.5, maxDelay: Double = 30, deadline: Double? = nil,
        maxServerWait: Double = 300, clock: RetryClock = .system,
        random: @escaping @Sendable (Double) -> Double = { upper in upper > 0 ? Double.random(in: 0...upper) : 0 }
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.deadline = deadline
        self.maxServerWait = maxServerWait
        self.clock = clock
        self.random = random
    }

    /// A deadline `seconds` from now on the policy's clock.
    public func deadline(in seconds: Double) -> Double { clock.monotonicNow() + seconds }

    /// Seconds left before the deadline (nil when there is none; never negative).
    public var remaining: Double? { deadline.map { max(0, $0 - clock.monotonicNow()) } }

    /// Full jitter (AWS architecture blog): uniform in 0...min(cap, base·2^(retry-1)). Spreads
    /// clients apart better than equal jitter when many retry at once. `retry` counts from 1.
    public func backoff(retry: Int) -> Double {
        let exponent = Double(min(max(retry - 1, 0), 40))
        return random(min(maxDelay, baseDelay * pow(2, exponent)))
    }

    /// The wait a response asks for: `Retry-After` (seconds; HTTP-date is not used by the servers
    /// we talk to) or, failing that, `X-Rate-Limit-Reset` (unix seconds) minus now. Nil if none.
    public func serverWait(_ headers: HTTPHeaders) -> Double? {
        if let text = headers["Retry-After"]?.trimmingCharacters(in: .whitespaces), let seconds = Double(text), seconds.isFinite {
            return max(0, seconds)
        }
        if let text = headers["X-Rate-Limit-Reset"]?.trimmingCharacters(in: .whitespaces), let reset = Double(text), reset.isFinite {
            return max(0, reset - clock.unixNow())
        }
        return nil
    }

    /// When a response says the rate-limit window is used up (`X-Rate-Limit-Remaining: 0`), the
    /// seconds until `X-Rate-Limit-Reset`; nil when calls may continue now.
    public func rateLimitPause(_ headers: HTTPHeaders) -> Double? {
        guard let remainingText = headers["X-Rate-Limit-Remaining"]?.trimmingCharacters(in: .whitespaces),
              let left = Int(remainingText), left <= 0,
              let resetText = headers["X-Rate-Limit-Reset"]?.trimmingCharacters(in: .whitespaces), let reset = Double(resetText)
        else { return nil }
        let wait = reset - clock.unixNow()
        return wait > 0 ? min(wait, maxServerWait) : nil
    }

    /// Sleeps `seconds` unless that would cross the deadline; false (and no sleep) if it would.
    public func sleep(_ seconds: Double) -> Bool {
        if let deadline, clock.monotonicNow() + seconds > deadline { return false }
        clock.sleep(seconds)
        return true
    }

    /// Runs `body` (given the 1-based attempt number) until it finishes, the attempts are used up,
    /// or the next wait would cross the deadline. A server-stated wait gets a little jitter on
    /// top (up to `baseDelay`) so clients told the same reset time do not all return at once.
    public func run<Value>(_ body: (Int) -> Attempt<Value>) -> Result<Value, RetryExhausted> {
        var attempt = 0
        var lastReason = "no attempt made"
        while attempt < maxAttempts {
            if let deadline, clock.monotonicNow() >= deadline {
                return .failure(RetryExhausted(attempts: attempt, lastReason: lastReason, deadlineReached: true))
            }
            attempt += 1
            switch body(attempt) {
            case .finished(let value):
                return .success(value)
            case .retry(let reason, let serverWait):
                lastReason = reason
                guard attempt < maxAttempts else { break }
                let wait: Double
                if let serverWait {
                    guard serverWait <= maxServerWait else {
                        return .failure(RetryExhausted(attempts: attempt, lastReason: "\(reason) (server asks to wait \(Int(serverWait)) s)", deadlineReached: false))
                    }
                    wait = serverWait + random(baseDelay)
                } else {
                    wait = backoff(retry: attempt)
                }
                if !sleep(wait) {
                    return .failure(RetryExhausted(attempts: attempt, lastReason: reason, deadlineReached: true))
                }
            }
        }
        return .failure(RetryExhausted(attempts: attempt, lastReason: lastReason, deadlineReached: false))
    }

    /// The one place that says which calls may be sent again after an unknown outcome (timeout,
    /// lost response, 5xx). GET/HEAD read. PATCH/PUT either go to an object by id or to a
    /// `…/sync` that upserts by origin_id, so a repeat lands on the same object. POST creates,
    /// and DELETE may fail differently the second time: the caller must look up first.
    public static func isSafeToRepeat(method: String, path: String) -> Bool {
        switch method.uppercased() {
        case "GET", "HEAD", "OPTIONS": return true
        case "PATCH", "PUT": return true
        case "POST": return path.hasSuffix("/oauth/token")  // a second token is harmless
        default: return false
        }
    }

    /// Statuses that mean "not done, try later": throttling and transient server trouble.
    public static func isRetryableStatus(_ status: Int) -> Bool {
        status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504
    }

    /// Sends `request` with retries where that is safe: transport failures and retryable statuses
    /// are repeated only for `isSafeToRepeat` calls (429 always: the server did not act on it).
    /// Returns the last response (which may still be an error status) or why it gave up.
    public func send(_ request: HTTPRequest, over transport: any HTTPTransport) -> Result<HTTPResponse, RetryExhausted> {
        let safe = Self.isSafeToRepeat(method: request.method, path: request.url.path)
        var lastError: TransportError?
        let outcome: Result<HTTPResponse?, RetryExhausted> = run { _ in
            do throws(TransportError) {
                let response = try transport.send(request)
                if response.status == 429 || (safe && Self.isRetryableStatus(response.status)) {
                    return .retry(reason: "HTTP \(response.status) from \(request.method) \(request.url.path)", serverWait: serverWait(response.headers))
                }
                return .finished(response)
            } catch {
                lastError = error
                guard safe, error.isRetryable else { return .finished(nil) }
                return .retry(reason: error.description, serverWait: nil)
            }
        }
        switch outcome {
        case .success(let response?): return .success(response)
        case .success(nil): return .failure(RetryExhausted(attempts: 1, lastReason: lastError?.description ?? "transport error", deadlineReached: false))
        case .failure(let exhausted): return .failure(exhausted)
        }
    }
}
