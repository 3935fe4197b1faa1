import Foundation
import Testing
@testable import SOVDelivery

/// A clock whose sleeps only advance time, so retry tests run instantly.
final class FakeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var monotonic: Double
    private var unix: Double
    private(set) var sleeps: [Double] = []

    init(monotonic: Double = 1000, unix: Double = 1_800_000_000) {
        self.monotonic = monotonic
        self.unix = unix
    }

    var retryClock: RetryClock {
        RetryClock(
            monotonicNow: { self.lock.withLock { self.monotonic } },
            unixNow: { self.lock.withLock { self.unix } },
            sleep: { seconds in self.advance(seconds, recorded: true) })
    }

    func advance(_ seconds: Double, recorded: Bool = false) {
        lock.withLock {
            if recorded { sleeps.append(seconds) }
            monotonic += seconds
            unix += seconds
        }
    }

    var now: (monotonic: Double, unix: Double) { lock.withLock { (monotonic, unix) } }
    var recordedSleeps: [Double] { lock.withLock { sleeps } }
}

/// A transport that answers from a script and records what it was sent.
final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var script: [Result<HTTPResponse, TransportError>]
    private(set) var sent: [HTTPRequest] = []

    init(_ script: [Result<HTTPResponse, TransportError>]) { self.script = script }

    func send(_ request: HTTPRequest) throws(TransportError) -> HTTPResponse {
        let next: Result<HTTPResponse, TransportError> = lock.withLock {
            sent.append(request)
            return script.isEmpty ? .failure(.connectionFailed("script exhausted")) : script.removeFirst()
        }
        return try next.get()
    }

    var sentRequests: [HTTPRequest] { lock.withLock { sent } }
}

@Suite struct RetryPolicyTests {
    @Test func backoffIsFullJitterCappedExponential() {
        let clock = FakeClock()
        // random returns its upper bound: the envelope of full jitter.
        let policy = RetryPolicy(clock: clock.retryClock, random: { $0 })
        #expect(policy.backoff(retry: 1) == 0.5)
        #expect(policy.backoff(retry: 2) == 1.0)
        #expect(policy.backoff(retry: 4) == 4.0)
        #expect(policy.backoff(retry: 7) == 30.0)  // 32 capped at 30
        #expect(policy.backoff(retry: 60) == 30.0)
        let zero = RetryPolicy(clock: clock.retryClock, random: { _ in 0 })
        #expect(zero.backoff(retry: 5) == 0)
    }

    @Test func stopsAfterMaxAttempts() {
        let clock = FakeClock()
        let policy = RetryPolicy(maxAttempts: 6, clock: clock.retryClock, random: { $0 })
        var attempts = 0
        let result: Result<Int, RetryExhausted> = policy.run { _ in
            attempts += 1
            return .retry(reason: "busy", serverWait: nil)
        }
        #expect(attempts == 6)
        #expect(clock.recordedSleeps == [0.5, 1, 2, 4, 8])  // no sleep after the last attempt
        guard case .failure(let exhausted) = result else {
            Issue.record("expected failure")
            return
        }
        #expect(exhausted.attempts == 6)
        #expect(exhausted.lastReason == "busy")
        #expect(!exhausted.deadlineReached)
    }

    @Test func succeedsOnceTheBodyFinishes() throws {
        let clock = FakeClock()
        let policy = RetryPolicy(clock: clock.retryClock, random: { _ in 0.25 })
        let result: Result<String, RetryExhausted> = policy.run { attempt in
            attempt < 3 ? .retry(reason: "x", serverWait: nil) : .finished("ok on \(attempt)")
        }
        #expect(try result.get() == "ok on 3")
        #expect(clock.recordedSleeps == [0.25, 0.25])
    }

    @Test func deadlineIsNeverCrossed() {
        let clock = FakeClock()
        var policy = RetryPolicy(maxAttempts: 20, clock: clock.retryClock, random: { $0 })
        policy.deadline = policy.deadline(in: 3)  // room for 0.5 + 1, not for the next 2
        let result: Result<Int, RetryExhausted> = policy.run { _ in .retry(reason: "down", serverWait: nil) }
        guard case .failure(let exhausted) = result else {
            Issue.record("expected failure")
            return
        }
        #expect(exhausted.deadlineReached)
        #expect(exhausted.attempts == 3)
        #expect(clock.recordedSleeps == [0.5, 1.0])
        #expect(clock.now.monotonic <= policy.deadline!)
    }

    @Test func serverWaitPrefersRetryAfterThenReset() {
        let clock = FakeClock(unix: 1_800_000_000)
        let policy = RetryPolicy(clock: clock.retryClock)
        #expect(policy.serverWait(HTTPHeaders([("retry-after", "7")])) == 7)
        #expect(policy.serverWait(HTTPHeaders([("X-Rate-Limit-Reset", "1800000012")])) == 12)
        #expect(policy.serverWait(HTTPHeaders([("Retry-After", "2"), ("X-Rate-Limit-Reset", "1800000012")])) == 2)
        #expect(policy.serverWait(HTTPHeaders([("X-Rate-Limit-Reset", "1799999990")])) == 0)
        #expect(policy.serverWait(HTTPHeaders()) == nil)
        #expect(policy.rateLimitPause(HTTPHeaders([("X-Rate-Limit-Remaining", "0"), ("X-Rate-Limit-Reset", "1800000004")])) == 4)
        #expect(policy.rateLimitPause(HTTPHeaders([("X-Rate-Limit-Remaining", "3"), ("X-Rate-Limit-Reset", "1800000004")])) == nil)
    }

    @Test func serverWaitGetsJitterAndTooLongWaitGivesUp() {
        let clock = FakeClock()
        let policy = RetryPolicy(maxServerWait: 60, clock: clock.retryClock, random: { $0 })
        var calls = 0
        let result: Result<Int, RetryExhausted> = policy.run { _ in
            calls += 1
            return calls == 1 ? .retry(reason: "429", serverWait: 3) : .retry(reason: "429", serverWait: 3600)
        }
        #expect(clock.recordedSleeps == [3.5])  // 3 s asked + up to baseDelay of jitter
        #expect(calls == 2)
        if case .failure(let exhausted) = result {
            #expect(exhausted.lastReason.contains("3600"))
        } else {
            Issue.record("expected failure")
        }
    }

    @Test func safeToRepeatTable() {
        #expect(RetryPolicy.isSafeToRepeat(method: "GET", path: "/rest/v1.0/prime_contracts"))
        #expect(RetryPolicy.isSafeToRepeat(method: "PATCH", path: "/rest/v1.0/prime_contracts/5/line_items/sync"))
        #expect(RetryPolicy.isSafeToRepeat(method: "PATCH", path: "/rest/v1.0/prime_contract/5"))
        #expect(!RetryPolicy.isSafeToRepeat(method: "POST", path: "/rest/v1.0/prime_contract"))
        #expect(!RetryPolicy.isSafeToRepeat(method: "POST", path: "/rest/v1.0/financials/markups"))
        #expect(RetryPolicy.isSafeToRepeat(method: "POST", path: "/oauth/token"))
        #expect(!RetryPolicy.isSafeToRepeat(method: "DELETE", path: "/rest/v1.0/x/1"))
    }

    @Test func sendRetriesSafeCallsButNotCreates() throws {
        let clock = FakeClock()
        let policy = RetryPolicy(clock: clock.retryClock, random: { _ in 0 })
        let url = URL(string: "http://127.0.0.1:9/rest/v1.0/prime_contracts")!
        let get = ScriptedTransport([.failure(.timeout("t")), .success(HTTPResponse(status: 503)), .success(HTTPResponse(status: 200, body: Array("[]".utf8)))])
        let answer = try policy.send(HTTPRequest(method: "GET", url: url), over: get).get()
        #expect(answer.status == 200)
        #expect(get.sentRequests.count == 3)

        let post = ScriptedTransport([.failure(.timeout("t")), .success(HTTPResponse(status: 201))])
        let outcome = policy.send(HTTPRequest(method: "POST", url: url), over: post)
        #expect(post.sentRequests.count == 1)  // a create is never repeated blindly
        if case .success = outcome { Issue.record("a timed-out create must not report success") }

        let throttled = ScriptedTransport([.success(HTTPResponse(status: 429, headers: HTTPHeaders([("Retry-After", "2")]))), .success(HTTPResponse(status: 201))])
        #expect(try policy.send(HTTPRequest(method: "POST", url: url), over: throttled).get().status == 201)  // 429: not applied, safe
        #expect(clock.recordedSleeps.last == 2)
    }

    @Test func headersAreCaseInsensitive() {
        var headers = HTTPHeaders()
        headers["Content-Type"] = "a"
        headers["content-type"] = "b"
        #expect(headers["CONTENT-TYPE"] == "b")
        #expect(headers.fields.count == 1)
    }
}
