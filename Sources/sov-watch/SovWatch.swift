import SOVPushCLI

/// `sov-watch`: all of its logic is `WatchCommand` in SOVPushCLI.
@main
enum SovWatch {
    static func main() {
        WatchCommand.mainExitingWithItsCode()
    }
}
