import SOVPushCLI

/// `sov-run`: all of its logic is `RunCommand` in SOVPushCLI.
@main
enum SovRun {
    static func main() {
        RunCommand.mainExitingWithItsCode()
    }
}
