import ArgumentParser
import SOVCore

public struct ParseCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "sov-parse", abstract: "Not implemented yet.")

    @OptionGroup public var options: StageOptions

    public init() {}

    public func run() throws {
        StageDriver.notImplemented("sov-parse")
    }
}
