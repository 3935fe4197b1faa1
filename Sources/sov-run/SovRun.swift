import SOVCLI

/// `sov-run`: all of its logic is `RunCommand` in SOVCLI.
@main
enum SovRun {
    static func main() {
        RunCommand.main()
    }
}
