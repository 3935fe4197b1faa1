import ArgumentParser
import SOVCore

public struct EmitCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "sov-emit", abstract: "Not implemented yet.")

    @OptionGroup public var options: StageOptions

    public init() {}

    public func run() throws {
        StageDriver.notImplemented("sov-emit")
    }
}
