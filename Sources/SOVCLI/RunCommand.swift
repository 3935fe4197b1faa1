import ArgumentParser
import SOVCore

public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "sov-run", abstract: "Not implemented yet.")

    @OptionGroup public var options: StageOptions

    public init() {}

    public func run() throws {
        StageDriver.notImplemented("sov-run")
    }
}
