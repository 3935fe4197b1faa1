import Foundation
import SOVCore
import SOVDelivery

/// A test tool, never shipped (the `SOVTestSupport` target): launches a Python stand-in (tools/standins/*.py) as a child process for one test, reads its
/// "listening http://127.0.0.1:PORT" line, and terminates it when stopped or released.
/// Works for any stand-in that takes `--port 0 --max-lifetime S` and prints that line.
public final class StandIn: @unchecked Sendable {
    // @unchecked: `process` is only touched in init and in stop(), which is idempotent and locked.
    public enum LaunchError: Error, CustomStringConvertible {
        case failed(String)
        public var description: String { if case .failed(let text) = self { text } else { "" } }
    }

    public let baseURL: URL
    private let process: Process
    private let lock = NSLock()
    private var stopped = false
    private let transport = URLSessionTransport()
    private let scratch: TemporaryFolder
    private let stderrFile: String
    private let exited = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - script: path relative to the repository root, e.g. "tools/standins/procore_standin.py".
    ///   - arguments: extra arguments after `--port 0 --max-lifetime <maxLifetime>`.
    ///   - maxLifetime: the stand-in exits by itself after this many seconds, even if the test crashed.
    public init(script: String, arguments: [String] = [], maxLifetime: Int = 120, startupTimeout: Double = 20) throws {
        let root = URL(fileURLWithPath: Checkout.root)
        let scriptURL = root.appendingPathComponent(script)
        guard FileManager.default.fileExists(atPath: scriptURL.path) else { throw LaunchError.failed("no stand-in at \(scriptURL.path)") }
        let scratch = TemporaryFolder("standin")
        self.scratch = scratch
        stderrFile = scratch.write("stderr", "")
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptURL.path, "--port", "0", "--max-lifetime", String(maxLifetime)] + arguments
        process.currentDirectoryURL = root
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrFile))
        process.standardInput = FileHandle.nullDevice
        let exited = self.exited
        process.terminationHandler = { _ in exited.signal() }
        try process.run()

        // Read the first line on another thread so a silent stand-in cannot hang the test.
        let line = LineBox()
        let ready = DispatchSemaphore(value: 0)
        let reader = stdout.fileHandleForReading
        Thread.detachNewThread {
            var bytes: [UInt8] = []
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                bytes += chunk
                if let newline = bytes.firstIndex(of: 0x0A) {
                    bytes = Array(bytes[..<newline])
                    break
                }
            }
            line.set(String(decoding: bytes, as: UTF8.self))
            ready.signal()
            // Keep draining so the child never blocks on a full pipe.
            while !reader.availableData.isEmpty {}
        }
        let timedOut = ready.wait(timeout: .now() + startupTimeout) == .timedOut
        let text = line.get() ?? ""
        let prefix = "listening "
        guard !timedOut, text.hasPrefix(prefix), let url = URL(string: String(text.dropFirst(prefix.count))) else {
            if process.isRunning { process.terminate() }
            let errors = scratch.text("stderr") ?? ""
            throw LaunchError.failed("stand-in \(script) did not start (first line: \(text.debugDescription)): \(errors)")
        }
        baseURL = url
    }

    deinit { stop() }

    /// SIGTERM, then wait up to 5 s; SIGKILL if it is still there. (A Python stand-in must unblock
    /// SIGTERM itself: the mask Foundation's Process hands down may block it.)
    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            process.terminate()
            if exited.wait(timeout: .now() + 5) == .timedOut {
                kill(process.processIdentifier, SIGKILL)
                _ = exited.wait(timeout: .now() + 2)
            }
        }
    }

    /// A control or API call without auth headers; the body is JSON text. Returns status and
    /// parsed body (nil when empty or not JSON).
    @discardableResult
    public func call(_ method: String, _ path: String, json: String? = nil) throws -> (status: Int, body: JSONValue?) {
        guard let url = URL(string: path, relativeTo: baseURL)?.absoluteURL else { throw LaunchError.failed("bad path \(path)") }
        var headers = HTTPHeaders()
        if json != nil { headers["Content-Type"] = "application/json" }
        let response = try transport.send(HTTPRequest(method: method, url: url, headers: headers, body: Array((json ?? "").utf8), timeout: 10))
        return (response.status, response.body.isEmpty ? nil : try? JSONParser.parse(response.body))
    }

    /// GET that must answer 2xx with JSON.
    public func get(_ path: String) throws -> JSONValue {
        let (status, body) = try call("GET", path)
        guard (200..<300).contains(status), let body else { throw LaunchError.failed("GET \(path) answered \(status)") }
        return body
    }

    /// POST of JSON text that must answer 2xx.
    @discardableResult
    public func post(_ path: String, json: String) throws -> JSONValue? {
        let (status, body) = try call("POST", path, json: json)
        guard (200..<300).contains(status) else { throw LaunchError.failed("POST \(path) answered \(status): \(body?.text ?? "")") }
        return body
    }
}

private final class LineBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String?
    func set(_ text: String) { lock.withLock { value = text } }
    func get() -> String? { lock.withLock { value } }
}
