import ArgumentParser
import SOVCore

public struct WatchCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "sov-watch", abstract: "Not implemented yet.")

    @OptionGroup public var options: StageOptions

    public init() {}

    public func run() throws {
        StageDriver.notImplemented("sov-watch")
    }
}
