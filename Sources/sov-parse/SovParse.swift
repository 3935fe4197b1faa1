import SOVCLI

/// `sov-parse`: all of its logic is `ParseCommand` in SOVCLI.
@main
enum SovParse {
    static func main() {
        ParseCommand.mainExitingWithItsCode()
    }
}
