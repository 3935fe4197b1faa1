import ArgumentParser
import SOVCore

public struct MarkupCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "sov-markup", abstract: "Not implemented yet.")

    @OptionGroup public var options: StageOptions

    public init() {}

    public func run() throws {
        StageDriver.notImplemented("sov-markup")
    }
}
