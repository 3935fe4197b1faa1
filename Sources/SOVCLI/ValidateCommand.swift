import ArgumentParser
import SOVCore

public struct ValidateCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(commandName: "sov-validate", abstract: "Not implemented yet.")

    @OptionGroup public var options: StageOptions

    public init() {}

    public func run() throws {
        StageDriver.notImplemented("sov-validate")
    }
}
