import SOVPushCLI

/// `sov-push`: all of its logic is `PushCommand` in SOVPushCLI.
@main
enum SovPush {
    static func main() {
        PushCommand.mainExitingWithItsCode()
    }
}
