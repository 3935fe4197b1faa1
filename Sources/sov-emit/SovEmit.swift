import SOVCLI

/// `sov-emit`: all of its logic is `EmitCommand` in SOVCLI.
@main
enum SovEmit {
    static func main() {
        EmitCommand.mainExitingWithItsCode()
    }
}
