import SOVCLI

/// `sov-watch`: all of its logic is `WatchCommand` in SOVCLI.
@main
enum SovWatch {
    static func main() {
        WatchCommand.main()
    }
}
